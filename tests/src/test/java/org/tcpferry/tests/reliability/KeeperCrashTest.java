package org.tcpferry.tests.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.tcpferry.protocol.ControlReply;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.tests.agent.AgentBed;
import org.tcpferry.tests.agent.AgentBed.App;

/**
 * The fd keeper killed with SIGKILL while the host manager (a process, {@code bin/tcpferry hostd})
 * holds two connections: alone, and together with the host manager.
 */
@KernelTest
class KeeperCrashTest {

    /**
     * The host manager still has every copy, so the holds go on; it notices within a second,
     * starts a new keeper and deposits every copy there. That the new keeper really has them is
     * proved by killing the host manager afterwards: the next start adopts both, and the guest
     * takes them back byte-exact both ways, on the same descriptors, with no reset.
     */
    @Test
    void keeperKilledWhileHoldingIsReplacedAndTheCopiesSurviveAHostManagerKillAfterwards() throws Exception {
        HostdSteps.withHostd("keeper-kill9", bed -> {
            App app = HostdSteps.handOffTwo(bed, 7955, AgentBed.impatientStreaming(2048, 20));
            Thread.sleep(1_000);

            ProcessHandle first = bed.hostd().keeper().orElseThrow();
            first.destroyForcibly();
            first.onExit().get(10, TimeUnit.SECONDS);
            long killed = System.nanoTime();
            AgentBed.await(() -> bed.hostd().tail().contains("event=keeper_replaced deposited=2"), 30_000,
                    "hostd to start a new keeper and deposit both copies");
            System.out.printf("keeper replaced and both copies deposited %d ms after the kill%n",
                    (System.nanoTime() - killed) / 1_000_000);
            AgentBed.await(() -> keeperPid(bed) > 0, 10_000, "the new keeper to write its pid");
            long second = keeperPid(bed);
            assertThat(second).as("a new keeper").isNotEqualTo(first.pid());
            assertThat(bed.hostd().tail()).contains("event=keeper_lost");
            long spooledBefore = HostdSteps.spooled(bed.hostd().status());
            Thread.sleep(2_000);
            assertThat(HostdSteps.spooled(bed.hostd().status())).as("holding on after the keeper died")
                    .isGreaterThan(spooledBefore);

            bed.hostd().kill9();
            Thread.sleep(2_000);
            bed.hostd().start();
            assertThat(keeperPid(bed)).as("the new keeper served the restart").isEqualTo(second);
            HostdSteps.assertHoldingTwo(bed);

            HostdSteps.reclaimBothByteExact(bed, app);
            HostdSteps.stopLeavesNothing(bed);
        });
    }

    private static long keeperPid(AgentBed bed) {
        try {
            return bed.hostd().keeper().map(ProcessHandle::pid).orElse(0L);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Both processes that had the copies are gone, so the kernel closed them and the connections
     * are lost. What must not happen is a guest left waiting: the restarted host manager holds
     * nothing and removes the stale steering, the reclaim names the loss for each connection, the
     * agent unblocks the flows and thaws the application, whose sockets report the reset.
     */
    @Test
    void hostManagerAndKeeperBothKilledLoseTheConnectionsAndTheReclaimSaysSoAndFreesTheGuest() throws Exception {
        HostdSteps.withHostd("both-kill9", bed -> {
            App app = HostdSteps.handOffTwo(bed, 7957, AgentBed.patientStreaming(2048, 20));
            Thread.sleep(1_000);

            ProcessHandle keeper = bed.hostd().keeper().orElseThrow();
            bed.hostd().kill9();
            keeper.destroyForcibly();
            keeper.onExit().get(10, TimeUnit.SECONDS);

            bed.hostd().start();
            assertThat(bed.heldByHostA()).as("held after both died").isZero();
            bed.awaitConnected();
            ControlReply reclaim = bed.control("reclaim");
            System.out.println("reclaim after both died: exit " + reclaim.exitCode() + " " + reclaim.json());
            assertThat(reclaim.exitCode()).as("a reclaim that lost connections fails").isEqualTo(1);
            assertThat(reclaim.json()).as("the reclaim names the loss of each connection")
                    .contains("\"lost\":2").contains("\"phase\":\"FAILED\"")
                    .contains("the host holds no copy any more").contains("\"stillHandedOff\":0");
            String error = app.awaitLine("ERROR", 30_000);
            System.out.println("the application learned: " + error);
            assertThat(error).as("the application runs and its socket reports the loss").contains("reset");
            assertThat(bed.net().guest().exec("nft", "list", "tables").stdout())
                    .as("no flow blocked in the guest").doesNotContain("tcpferry");

            HostdSteps.stopLeavesNothing(bed);
        });
    }
}
