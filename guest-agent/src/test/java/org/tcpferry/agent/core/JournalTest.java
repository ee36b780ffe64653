package org.tcpferry.agent.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tcpferry.protocol.FlowKey;
import org.tcpferry.repair.ConnectionState;
import org.tcpferry.repair.RepairWindow;
import org.tcpferry.repair.SocketOptions;
import org.tcpferry.repair.TcpState;

/** The journal gives back exactly what was written: phases, owners, freeze units, dumps and tokens. */
class JournalTest {

    @Test
    void connectionsRoundTripWithDumpAndToken(@TempDir Path dir) throws Exception {
        Journal journal = new Journal(dir.resolve("journal"));
        Carried v4 = carried("10.0.0.2", 40000, "10.0.0.1", 443, List.of(FreezeUnit.process(812, 123456L)));
        v4.dump = state(v4.flow);
        v4.token = new byte[] {1, 2, 3, 4};
        v4.phase = Phase.HANDED_OFF;
        v4.holder = "hostA";
        Carried v6 = carried("fd77::2", 5000, "fd77::1", 50000, List.of(FreezeUnit.cgroup("/app.slice/web.service")));
        v6.phase = Phase.SELECTED;
        journal.write(v4);
        journal.write(v6);
        journal.writeFrozen(List.of(FreezeUnit.process(812, 123456L), FreezeUnit.cgroup("/app.slice/web.service")));

        List<Journal.Entry> entries = journal.readConnections();
        assertThat(entries).hasSize(2);
        Journal.Entry a = entries.stream().filter(e -> e.flow().equals(v4.flow)).findFirst().orElseThrow();
        assertThat(a.phase()).isEqualTo(Phase.HANDED_OFF);
        assertThat(a.ownerPid()).isEqualTo(812);
        assertThat(a.ownerFd()).isEqualTo(7);
        assertThat(a.inode()).isEqualTo(99);
        assertThat(a.dump()).isEqualTo(v4.dump);
        assertThat(a.token()).containsExactly(1, 2, 3, 4);
        assertThat(a.holder()).isEqualTo("hostA");
        assertThat(a.units()).containsExactly(FreezeUnit.process(812, 123456L));
        Journal.Entry b = entries.stream().filter(e -> e.flow().equals(v6.flow)).findFirst().orElseThrow();
        assertThat(b.phase()).isEqualTo(Phase.SELECTED);
        assertThat(b.dump()).isNull();
        assertThat(b.token()).isNull();
        assertThat(b.holder()).isNull();
        assertThat(b.units()).containsExactly(FreezeUnit.cgroup("/app.slice/web.service"));
        assertThat(journal.readFrozen()).containsExactly(FreezeUnit.process(812, 123456L),
                FreezeUnit.cgroup("/app.slice/web.service"));

        journal.forgetAll(List.of(v6.flow));
        assertThat(journal.readConnections()).hasSize(1);
        journal.clear();
        assertThat(journal.isEmpty()).isTrue();
        try (var left = Files.list(dir.resolve("journal"))) {
            assertThat(left.toList()).as("only the emptied log is left").containsExactly(dir.resolve("journal").resolve(Journal.FILE));
        }
        assertThat(Files.size(dir.resolve("journal").resolve(Journal.FILE))).isZero();
    }

    @Test
    void aBatchIsOneRecordAndEachConnectionsLastRecordWins(@TempDir Path dir) throws Exception {
        Journal journal = new Journal(dir);
        Carried a = carried("10.0.0.2", 40001, "10.0.0.1", 443, List.of(FreezeUnit.process(812, 1L)));
        Carried b = carried("10.0.0.2", 40002, "10.0.0.1", 443, List.of(FreezeUnit.process(812, 1L)));
        journal.writeAll(List.of(a, b));
        assertThat(Files.readAllLines(dir.resolve(Journal.FILE))).as("one record for the batch").hasSize(1);
        assertThat(journal.readConnections()).extracting(Journal.Entry::phase).containsOnly(Phase.SELECTED);
        a.dump = state(a.flow);
        a.phase = Phase.DUMPED;
        journal.write(a);
        assertThat(journal.readConnections()).extracting(e -> e.flow().local().getPort() + " " + e.phase())
                .containsExactlyInAnyOrder("40001 DUMPED", "40002 SELECTED");
        journal.forgetAll(List.of(b.flow));
        assertThat(journal.readConnections()).extracting(Journal.Entry::phase).containsExactly(Phase.DUMPED);
        assertThat(journal.readConnections().get(0).dump()).isEqualTo(a.dump);
    }

    @Test
    void laterRecordsCarryOnlyWhatChangedAndReadBackComplete(@TempDir Path dir) throws Exception {
        Journal journal = new Journal(dir);
        Carried a = carried("10.0.0.2", 40001, "10.0.0.1", 443, List.of(FreezeUnit.process(812, 1L)));
        journal.write(a);
        a.dump = state(a.flow);
        a.phase = Phase.DUMPED;
        journal.write(a);
        a.token = new byte[] {5, 6, 7};
        a.holder = "hostA";
        a.phase = Phase.HANDED_OFF;
        journal.write(a);
        List<String> lines = Files.readAllLines(dir.resolve(Journal.FILE));
        assertThat(lines.get(0)).contains("\"ownerPid\":812", "\"units\"").doesNotContain("\"dump\"");
        assertThat(lines.get(1)).contains("\"dump\"").doesNotContain("\"ownerPid\"");
        assertThat(lines.get(2)).as("the dump is not written twice").contains("\"token\"").doesNotContain("\"dump\"", "\"units\"");
        assertComplete(journal.readConnections(), a);

        // A restarted agent's journal knows what the log holds: its records stay short, and read back complete.
        journal.close();
        Journal restarted = new Journal(dir);
        a.phase = Phase.RECLAIMING;
        restarted.write(a);
        assertThat(Files.readAllLines(dir.resolve(Journal.FILE)).get(3)).doesNotContain("\"dump\"", "\"units\"");
        assertComplete(restarted.readConnections(), a);

        // Forgotten, then carried again (the same four-tuple, a new socket): a complete record again.
        restarted.forgetAll(List.of(a.flow));
        Carried again = carried("10.0.0.2", 40001, "10.0.0.1", 443, List.of(FreezeUnit.process(900, 2L)));
        restarted.write(again);
        assertThat(restarted.readConnections()).singleElement().satisfies(e -> {
            assertThat(e.ownerPid()).isEqualTo(812);
            assertThat(e.units()).containsExactly(FreezeUnit.process(900, 2L));
            assertThat(e.dump()).isNull();
            assertThat(e.phase()).isEqualTo(Phase.SELECTED);
        });
    }

    private static void assertComplete(List<Journal.Entry> entries, Carried a) {
        assertThat(entries).singleElement().satisfies(e -> {
            assertThat(e.flow()).isEqualTo(a.flow);
            assertThat(e.phase()).isEqualTo(a.phase);
            assertThat(e.ownerPid()).isEqualTo(a.ownerPid);
            assertThat(e.ownerFd()).isEqualTo(a.ownerFd);
            assertThat(e.inode()).isEqualTo(a.inode);
            assertThat(e.units()).isEqualTo(a.freezeUnits);
            assertThat(e.dump()).isEqualTo(a.dump);
            assertThat(e.token()).isEqualTo(a.token);
            assertThat(e.holder()).isEqualTo(a.holder);
        });
    }

    @Test
    void aRecordTornByACrashIsIgnoredAndAppendsContinueAfterIt(@TempDir Path dir) throws Exception {
        Journal journal = new Journal(dir);
        Carried a = carried("10.0.0.2", 40001, "10.0.0.1", 443, List.of(FreezeUnit.process(812, 1L)));
        journal.write(a);
        journal.close();
        // A crash in the middle of the next append: part of a line, no newline.
        Files.writeString(dir.resolve(Journal.FILE), "{\"conns\":[{\"flow\":\"x", StandardOpenOption.APPEND);
        Journal restarted = new Journal(dir);
        assertThat(restarted.readConnections()).extracting(Journal.Entry::phase).containsExactly(Phase.SELECTED);
        a.phase = Phase.HANDED_OFF;
        restarted.write(a);
        assertThat(restarted.readConnections()).extracting(Journal.Entry::phase).containsExactly(Phase.HANDED_OFF);
        assertThat(Files.readAllLines(dir.resolve(Journal.FILE))).as("the torn part was cut off").hasSize(2);
    }

    @Test
    void aMissingDirectoryIsAnEmptyJournal(@TempDir Path dir) throws Exception {
        assertThat(new Journal(dir.resolve("none")).isEmpty()).isTrue();
    }

    @Test
    void settledPhasesAreTheEndsOfTheMachine() {
        assertThat(Phase.values()).filteredOn(Phase::settled)
                .containsExactly(Phase.CONFORMED, Phase.ROLLED_BACK, Phase.FAILED);
    }

    private static Carried carried(String local, int lport, String remote, int rport, List<FreezeUnit> units)
            throws Exception {
        FlowKey flow = new FlowKey(new InetSocketAddress(InetAddress.getByName(local), lport),
                new InetSocketAddress(InetAddress.getByName(remote), rport));
        return new Carried(flow, 812, 7, 99, units);
    }

    private static ConnectionState state(FlowKey flow) {
        return new ConnectionState(flow.local(), flow.remote(), TcpState.ESTABLISHED, 1000, new byte[] {9, 9},
                new byte[] {8}, 2000, new byte[] {7, 7, 7}, 1460, true, 7, 7, true, true, 12345,
                new RepairWindow(1000, 65535, 65535, 65535, 2000),
                new SocketOptions(true, true, 60, 10, 5, 3000, 131072, 131072));
    }
}
