package org.tcpferry.tests.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.tcpferry.agent.core.Phase;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.rig.StandardTopology;
import org.tcpferry.tests.agent.AgentBed.App;

/**
 * An application in a cgroup of its own is frozen through cgroup v2 ({@code cgroup.freeze}), not
 * with SIGSTOP: the cgroup reports {@code frozen 1} while its connection is handed off and
 * {@code frozen 0} once it is back. The cgroup is made under the cgroup2 mount and removed after.
 */
@KernelTest
class CgroupFreezeTest {
    private static final Path CGROUP2 = Path.of("/sys/fs/cgroup/unified");

    @Test
    void ownerInItsOwnCgroupIsFrozenThroughCgroupFreeze() throws Exception {
        Path mount = Files.exists(CGROUP2.resolve("cgroup.procs")) ? CGROUP2 : Path.of("/sys/fs/cgroup");
        Path group = mount.resolve("tcpferry-agent-test-" + UUID.randomUUID().toString().substring(0, 8));
        Files.createDirectory(group);
        App app = null;
        try (AgentBed bed = AgentBed.create("agent-cgroup")) {
            app = bed.app("client", StandardTopology.PEER_V4, 7801, 1, AgentBed.impatientStreaming(4096, 20));
            Files.writeString(group.resolve("cgroup.procs"), Long.toString(app.process.pid()));
            Thread.sleep(300);

            assertThat(bed.control("handoff").exitCode()).isZero();
            bed.awaitPhase(Phase.HANDED_OFF, 1, 20_000);
            assertThat(Files.readString(group.resolve("cgroup.events"))).contains("frozen 1");
            Thread.sleep(4_000);

            assertThat(bed.control("reclaim").exitCode()).isZero();
            bed.awaitAllBack(1, 20_000);
            assertThat(Files.readString(group.resolve("cgroup.events"))).contains("frozen 0");
            assertThat(app.sockets()).containsAllEntriesOf(app.socketsBefore);
            System.out.println("echoed byte-exact both ways: " + app.finish(20_000));
        } finally {
            // The app has exited, or the bed killed it; a cgroup with no process can be removed.
            if (Files.exists(group.resolve("cgroup.freeze"))) {
                Files.writeString(group.resolve("cgroup.freeze"), "0");
            }
            for (String pid : Files.readAllLines(group.resolve("cgroup.procs"))) {
                Files.writeString(mount.resolve("cgroup.procs"), pid);
            }
            Files.delete(group);
        }
    }
}
