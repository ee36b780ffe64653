package org.tcpferry.tests.vm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.vmrig.EchoPeer;
import org.tcpferry.vmrig.VmRig;

/**
 * A real guest under libvirt, saved to disk and restored, with a peer that gives up on a silent
 * connection after about 3 s (TCP_USER_TIMEOUT 3 s, keepalive 1/1/2). One guest boot serves both
 * scenarios: its echo client reconnects after the carried connection is closed cleanly. The control
 * runs last because the guest never learns that the peer dropped its connection (the guest sends
 * nothing on an idle echo connection and has no keepalive), so its client would not reconnect.
 */
/**
 * Scenario 3, the control: a real guest under libvirt is saved to disk while a peer streams to it,
 * without tcpferry. The peer gives up on the silent connection (TCP_USER_TIMEOUT 3 s, keepalive
 * 1 s / 1 s / 2) with ETIMEDOUT long before the guest could come back; the guest is then restored.
 * Waiting the full 60 s before restoring would prove nothing more: the peer's verdict is final.
 */
@KernelTest
class SaveRestoreControlVmTest {
    private static final String NAME = "SaveRestoreControlVmTest";
    private static final int ETIMEDOUT = 110;

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

    /** Scenario 3 (control): without tcpferry the peer times out while the guest is saved. */
    @Test
    void withoutTcpferryThePeerDropsTheConnectionWhileTheGuestIsSaved() throws Exception {
        EchoPeer peer = vm.acceptConnection(180);
        try {
            awaitEcho(peer, 30);
            long saveStart = System.nanoTime();
            long save = vm.save();
            long deadline = saveStart + 45_000_000_000L;
            while (peer.failure() == null && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(peer.failure()).as("peer failure after the guest was saved\n%s", vm.diagnostics()).isNotNull();
            assertThat(peer.failureErrno()).as(peer.failure()).isEqualTo(ETIMEDOUT);
            long dropped = (peer.failedAtNanos() - saveStart) / 1_000_000;
            long restore = vm.restore();
            // The tcpferry hook ran inside libvirtd and reached this host's hostd.
            assertThat(java.nio.file.Files.readString(vm.hookLog()))
                    .contains("op=restore subop=begin extra=- outcome=delivered");
            report("control: virsh save " + save + " ms; peer ETIMEDOUT " + dropped + " ms after save began; virsh restore "
                    + restore + " ms");
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
