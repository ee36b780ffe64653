package org.tcpferry.tests.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;
import org.tcpferry.host.config.HostConfig;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.tests.agent.AgentBed;
import org.tcpferry.tests.agent.AgentBed.App;

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
        HostdSteps.withHostd("hostd-kill9", HostdRestartTest::run);
    }

    private static void run(AgentBed bed) throws Exception {
        App app = HostdSteps.handOffTwo(bed, 7951, AgentBed.impatientStreaming(2048, 20));
        Thread.sleep(2_000); // the copies spool what the peers send
        long spooledBefore = HostdSteps.spooled(bed.hostd().status());
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
        HostdSteps.restartAdoptingBoth(bed, keeper, spooledBefore);

        Thread.sleep(11_000); // the restarted host manager holds on
        long spooledAfter = HostdSteps.spooled(bed.hostd().status());
        assertThat(spooledAfter).as("still reading after the restart").isGreaterThan(spooledBefore);
        System.out.printf("spooled %d bytes before the kill, %d after 11 s more%n", spooledBefore, spooledAfter);

        System.out.println("status before the reclaim: " + bed.hostd().status());
        HostdSteps.reclaimBothByteExact(bed, app);
        HostdSteps.stopLeavesNothing(bed);
        assertThat(Files.readString(bed.dir().resolve("hostd.log"))).contains("event=copy_adopted");
    }
}
