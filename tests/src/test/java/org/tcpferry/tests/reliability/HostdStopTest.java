package org.tcpferry.tests.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.tests.agent.AgentBed;
import org.tcpferry.tests.agent.AgentBed.App;

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
        HostdSteps.withHostd("hostd-sigterm", HostdStopTest::run);
    }

    /**
     * {@code tcpferry hostd --drop-on-stop}: the operator's way to end what is held. The stop drops
     * both copies silently and leaves nothing in host A; the keeper exits.
     */
    @Test
    void dropOnStopDropsWhatIsHeldAndLeavesNothing() throws Exception {
        HostdSteps.withHostd("hostd-drop-on-stop", bed -> {
            assertThat(bed.hostd().stop()).as("exit code of a stop with nothing held").isZero();
            assertThat(bed.hostd().awaitKeeperExit(10_000)).as("the fd keeper exits").isEmpty();
            bed.hostd().start(java.util.Map.of(), java.util.List.of("--drop-on-stop"));
            bed.awaitConnected();
            HostdSteps.handOffTwo(bed, 7959, AgentBed.patientStreaming(2048, 20));
            Thread.sleep(1_000);

            HostdSteps.stopLeavesNothing(bed);
            assertThat(bed.hostd().tail()).contains("event=dropping").doesNotContain("event=stopped_holding");
        });
    }

    private static void run(AgentBed bed) throws Exception {
        App app = HostdSteps.handOffTwo(bed, 7953, AgentBed.impatientStreaming(2048, 20));
        Thread.sleep(2_000); // the copies spool what the peers send
        long spooledBefore = HostdSteps.spooled(bed.hostd().status());
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
        Thread.sleep(2_000); // only the kept copies answer the peers

        HostdSteps.restartAdoptingBoth(bed, keeper, spooledBefore);
        Thread.sleep(5_000); // the restarted host manager holds on
        assertThat(HostdSteps.spooled(bed.hostd().status())).as("still reading after the restart")
                .isGreaterThan(spooledBefore);

        HostdSteps.reclaimBothByteExact(bed, app);
        HostdSteps.stopLeavesNothing(bed);
        assertThat(bed.hostd().tail()).as("the final stop, with nothing held, cleaned up").contains("event=stopped node=");
    }
}
