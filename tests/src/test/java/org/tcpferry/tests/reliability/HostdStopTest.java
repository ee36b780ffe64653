package org.tcpferry.tests.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tcpferry.rig.StandardTopology.PEER_V4;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.tcpferry.protocol.ControlReply;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.tests.agent.AgentBed;
import org.tcpferry.tests.agent.AgentBed.App;
import org.tcpferry.tests.host.HostLeftovers;

/**
 * The host manager is stopped with SIGTERM ({@code systemctl restart tcpferry-hostd}) while it
 * holds two connections whose impatient peers (TCP_USER_TIMEOUT 3 s, keepalive 1/1/2) stream and
 * expect their echo. The stop leaves the copies with the fd keeper and their flows steered, the
 * next start adopts them, and the guest agent takes them back byte-exact both ways, on the
 * application's same descriptors, with no reset. The final stop, with nothing held, leaves nothing.
 */
@KernelTest
class HostdStopTest {

    @Test
    void sigtermWhileHoldingLeavesTheCopiesToTheKeeperAndTheNextStartAdoptsThem() throws Exception {
        try (AgentBed bed = AgentBed.create("hostd-sigterm", true, true, false)) {
            try {
                run(bed);
            } catch (Exception | AssertionError e) {
                System.out.println("hostd log:\n" + bed.hostd().tail());
                throw e;
            }
        }
    }

    private static void run(AgentBed bed) throws Exception {
        App app = bed.app("client", PEER_V4, 7953, 2, AgentBed.impatientStreaming(2048, 20));
        Thread.sleep(500);
        ControlReply handoff = bed.control("handoff");
        assertThat(handoff.exitCode()).as(handoff.json()).isZero();
        assertThat(handoff.json()).contains("\"handedOff\":2");
        Thread.sleep(2_000); // the copies spool what the peers send
        long spooledBefore = spooled(bed.hostd().status());
        assertThat(spooledBefore).as("spooled before the stop").isPositive();
        long keeper = bed.hostd().keeper().orElseThrow().pid();

        long stopStart = System.nanoTime();
        assertThat(bed.hostd().stop()).as("exit code of a stop that leaves the copies to the keeper").isZero();
        System.out.printf("hostd stopped in %d ms%n", (System.nanoTime() - stopStart) / 1_000_000);
        assertThat(bed.hostd().tail()).contains("event=stopped_holding node=").contains("held=2")
                .doesNotContain("event=dropping");
        assertThat(bed.hostd().keeper().orElseThrow().pid()).as("the keeper outlives the stop").isEqualTo(keeper);
        assertThat(bed.net().hostA().exec("nft", "list", "tables").stdout()).as("steering left in place")
                .contains("tcpferry");
        Thread.sleep(2_000); // longer than nothing: only the kept copies answer the peers

        long start = System.nanoTime();
        bed.hostd().start();
        System.out.printf("hostd restarted and adopted in %d ms%n", (System.nanoTime() - start) / 1_000_000);
        assertThat(bed.hostd().keeper().orElseThrow().pid()).as("the same keeper").isEqualTo(keeper);
        JsonNode status = bed.hostd().status();
        assertThat(status.path("domains").get(0).path("connections")).hasSize(2)
                .allSatisfy(c -> assertThat(c.path("state").asText()).isEqualTo("HOLDING"));
        assertThat(spooled(status)).as("spool kept across the stop").isGreaterThanOrEqualTo(spooledBefore);
        Thread.sleep(5_000); // the restarted host manager holds on
        assertThat(spooled(bed.hostd().status())).as("still reading after the restart").isGreaterThan(spooledBefore);

        bed.awaitConnected();
        ControlReply reclaim = bed.control("reclaim");
        assertThat(reclaim.exitCode()).as(reclaim.json()).isZero();
        AgentBed.await(() -> bed.heldByHostA() == 0, 30_000, "the agent to take both connections back");
        assertThat(app.sockets()).as("the application's descriptors").containsAllEntriesOf(app.socketsBefore);
        System.out.println("echoed byte-exact both ways: " + app.finish(30_000));

        assertThat(bed.hostd().stop()).as("exit code of the final stop").isZero();
        assertThat(bed.hostd().tail()).contains("event=stopped node=");
        HostLeftovers.assertNone(bed.net().hostA(), bed.dir().resolve("spool"));
        assertThat(bed.hostd().awaitKeeperExit(10_000)).as("the fd keeper exits").isEmpty();
    }

    static long spooled(JsonNode status) {
        return status.path("domains").get(0).path("spooledBytes").asLong();
    }
}
