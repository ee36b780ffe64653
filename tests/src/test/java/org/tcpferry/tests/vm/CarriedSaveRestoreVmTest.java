package org.tcpferry.tests.vm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.vmrig.EchoPeer;
import org.tcpferry.vmrig.Shell;
import org.tcpferry.vmrig.VmRig;

/**
 * A real guest under libvirt, saved to disk and restored, with a peer that gives up on a silent
 * connection after about 3 s (TCP_USER_TIMEOUT 3 s, keepalive 1/1/2). One guest boot serves both
 * scenarios: its echo client reconnects after the carried connection is closed cleanly. The control
 * runs last because the guest never learns that the peer dropped its connection (the guest sends
 * nothing on an idle echo connection and has no keepalive), so its client would not reconnect.
 */
/**
 * Scenario 1 on a real guest: {@code tcpferry handoff} (control socket), {@code virsh save}, 60 s,
 * {@code virsh restore}, {@code tcpferry reclaim}; the connection must live and both directions must
 * be byte-exact (SHA-256 of what the peer sent and of the echo it got back).
 *
 * <p>It failed until frame payloads were read without {@code InputStream.readNBytes}, which seeks
 * and so fails on the guest's virtio-serial character device ("Illegal seek"); see docs/vm-tests.md.
 */
@KernelTest
class CarriedSaveRestoreVmTest {
    private static final String NAME = "CarriedSaveRestoreVmTest";
    /** How long the guest stays saved. */
    private static final long HOLD_MILLIS = 60_000;

    private static VmRig vm;

    @BeforeAll
    static void bootGuest() throws Exception {
        vm = VmRig.start(NAME);
        report("boot: virsh start to guest ready " + vm.bootMillis() + " ms, to the agent's channel open "
                + vm.agentReadyMillis() + " ms");
    }

    @AfterAll
    static void removeRig() {
        if (vm != null) {
            vm.close();
        }
    }

    /** Scenario 1: handoff, save, 60 s, restore, reclaim: the connection lives and both streams are byte-exact. */
    @Test
    void handedOffConnectionSurvivesSaveAndRestoreByteExact() throws Exception {
        EchoPeer peer = vm.acceptConnection(120);
        try {
            awaitEcho(peer, 30);
            Shell.Result handoff = vm.hostDaemon().controlWhenAgentConnected("handoff", 180);
            report("handoff reply: " + handoff.stdout().strip());
            long saveStart = System.nanoTime();
            long save = vm.save();
            Thread.sleep(Math.max(0, HOLD_MILLIS - (System.nanoTime() - saveStart) / 1_000_000));
            assertThat(peer.failure()).as("peer while the guest is saved\n%s", vm.diagnostics()).isNull();
            long sentDuringHold = peer.sent();
            long restore = vm.restore();
            long reclaimStart = System.nanoTime();
            Shell.Result reclaim = vm.hostDaemon().controlWhenAgentConnected("reclaim", 120);
            long reclaimUntilOk = (System.nanoTime() - reclaimStart) / 1_000_000;
            long echoedAtReclaim = peer.echoed();
            awaitEchoBeyond(peer, echoedAtReclaim, 60);
            long saveToEcho = (System.nanoTime() - saveStart) / 1_000_000;
            Thread.sleep(3000);
            peer.finish(120_000);

            assertThat(peer.failure()).as("peer after reclaim\n%s", vm.diagnostics()).isNull();
            assertThat(peer.eof()).as("guest closed after the peer's FIN (echoed %d of %d)\n%s", peer.echoed(), peer.sent(),
                    vm.diagnostics()).isTrue();
            assertThat(peer.echoed()).isEqualTo(peer.sent());
            assertThat(peer.echoSha256()).isEqualTo(peer.sentSha256());
            report("carried: handoff " + handoff.millis() + " ms (CLI wall, last try); virsh save " + save
                    + " ms; hold " + HOLD_MILLIS + " ms; virsh restore " + restore + " ms; reclaim " + reclaim.millis()
                    + " ms (CLI wall, last try; " + reclaimUntilOk + " ms until accepted); save start to echo flowing again "
                    + saveToEcho + " ms");
            report("carried: peer sent " + peer.sent() + " bytes (" + sentDuringHold + " by the end of the hold), echoed "
                    + peer.echoed() + ", SHA-256 " + peer.sentSha256() + " both ways; longest peer send stall "
                    + peer.longestSendStallMillis() + " ms; longest echo gap " + peer.longestEchoGapMillis() + " ms");
        } finally {
            peer.close();
        }
    }

    private static void awaitEcho(EchoPeer peer, long seconds) throws Exception {
        awaitEchoBeyond(peer, 0, seconds);
    }

    private static void awaitEchoBeyond(EchoPeer peer, long echoed, long seconds) throws Exception {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (peer.echoed() <= echoed) {
            assertThat(peer.failure()).as("peer\n%s", vm.diagnostics()).isNull();
            assertThat(System.nanoTime()).as("echo beyond %d bytes within %d s\n%s", echoed, seconds, vm.diagnostics())
                    .isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    private static void report(String line) {
        System.out.println("vm-test: " + line);
    }
}
