package org.tcpferry.tests.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tcpferry.rig.StandardTopology.PEER_V4;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;
import org.tcpferry.host.config.HostConfig;
import org.tcpferry.protocol.ControlReply;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.tests.agent.AgentBed;
import org.tcpferry.tests.agent.AgentBed.App;
import org.tcpferry.tests.host.HostLeftovers;

/**
 * The host manager is killed with SIGKILL while it holds two connections whose impatient peers
 * (TCP_USER_TIMEOUT 3 s, keepalive 1/1/2) stream and expect their echo, then started again:
 * the fd keeper kept the copies, and the kernel kept acknowledging the peers meanwhile. A start
 * that fails after adopting them leaves them to the keeper. The next
 * host manager adopts them, holds them more than 10 s, and the guest agent takes them back
 * byte-exact both ways, on the application's same descriptors, with no reset, nothing left.
 */
@KernelTest
class HostdRestartTest {

    @Test
    void hostManagerKilledWhileHoldingIsRestartedAndKeepsHolding() throws Exception {
        try (AgentBed bed = AgentBed.create("hostd-kill9", true, true, false)) {
            try {
                run(bed);
            } catch (Exception | AssertionError e) {
                System.out.println("hostd log:\n" + bed.hostd().tail());
                throw e;
            }
        }
    }

    private static void run(AgentBed bed) throws Exception {
        {
            App app = bed.app("client", PEER_V4, 7951, 2, AgentBed.impatientStreaming(2048, 20));
            Thread.sleep(500);

            ControlReply handoff = bed.control("handoff");
            assertThat(handoff.exitCode()).as(handoff.json()).isZero();
            assertThat(handoff.json()).contains("\"handedOff\":2");
            assertThat(bed.heldByHostA()).isEqualTo(2);
            Thread.sleep(2_000); // the copies spool what the peers send
            long spooledBefore = spooled(bed.hostd().status());
            assertThat(spooledBefore).as("spooled before the kill").isPositive();
            long keeper = bed.hostd().keeper().orElseThrow().pid();

            bed.hostd().kill9();
            // Longer than the peers' patience: only the kept copies answer them. At 100 KB/s each
            // peer fills a copy's restart buffer (HeldConnection.RESTART_RECEIVE_BUFFER) in ~40 s.
            Thread.sleep(2_000);
            // A start that fails after adopting the copies (its metrics port is taken) must leave
            // them with the keeper, steered, for the next start.
            try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                HostConfig c = bed.hostd().config();
                HostConfig broken = c.withFdKeeper(c.fdKeeperSocket(), "127.0.0.1:" + taken.getLocalPort());
                assertThat(bed.hostd().runOnce(broken)).as("exit code of a start that cannot bind").isNotZero();
            }
            assertThat(bed.hostd().tail()).contains("event=start_failed_holding held=2");
            Thread.sleep(2_000);
            long start = System.nanoTime();
            bed.hostd().start();
            System.out.printf("hostd restarted and adopted in %d ms%n", (System.nanoTime() - start) / 1_000_000);
            assertThat(bed.hostd().keeper().orElseThrow().pid()).as("the same keeper").isEqualTo(keeper);
            JsonNode status = bed.hostd().status();
            assertThat(status.path("domains").get(0).path("connections")).hasSize(2)
                    .allSatisfy(c -> assertThat(c.path("state").asText()).isEqualTo("HOLDING"));
            assertThat(spooled(status)).as("spool kept across the kill").isGreaterThanOrEqualTo(spooledBefore);

            Thread.sleep(11_000); // the restarted host manager holds on
            long spooledAfter = spooled(bed.hostd().status());
            assertThat(spooledAfter).as("still reading after the restart").isGreaterThan(spooledBefore);
            System.out.printf("spooled %d bytes before the kill, %d after 11 s more%n", spooledBefore, spooledAfter);

            System.out.println("status before the reclaim: " + bed.hostd().status());
            bed.awaitConnected();
            ControlReply reclaim = bed.control("reclaim");
            assertThat(reclaim.exitCode()).as(reclaim.json()).isZero();
            AgentBed.await(() -> bed.heldByHostA() == 0, 30_000, "the agent to take both connections back");
            assertThat(app.sockets()).as("the application's descriptors").containsAllEntriesOf(app.socketsBefore);
            System.out.println("echoed byte-exact both ways: " + app.finish(30_000));

            assertThat(bed.hostd().stop()).as("hostd exit code").isZero();
            HostLeftovers.assertNone(bed.net().hostA(), bed.dir().resolve("spool"));
            AgentBed.await(() -> {
                try {
                    return bed.hostd().keeper().isEmpty();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, 10_000, "the fd keeper to exit");
            assertThat(Files.readString(bed.dir().resolve("hostd.log"))).contains("event=copy_adopted");
        }
    }

    private static long spooled(JsonNode status) {
        return status.path("domains").get(0).path("spooledBytes").asLong();
    }
}
