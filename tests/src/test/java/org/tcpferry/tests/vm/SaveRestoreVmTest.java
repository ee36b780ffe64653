package org.tcpferry.tests.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer.OrderAnnotation;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.vmrig.CarriedScenario;
import org.tcpferry.vmrig.EchoPeer;
import org.tcpferry.vmrig.HostDaemon;
import org.tcpferry.vmrig.Shell;
import org.tcpferry.vmrig.VmHost;
import org.tcpferry.vmrig.VmRig;

/**
 * Save and restore on one libvirt host, with a peer that gives up on a silent connection after about
 * 3 s (TCP_USER_TIMEOUT 3 s, keepalive 1 s / 1 s / 2) streaming both ways with the guest's echo client.
 * One guest boot serves the three scenarios, in order: after a carried scenario the peer closes the
 * connection cleanly and the guest's echo client reconnects. The control runs last because the guest
 * never learns that the peer dropped its connection (it sends nothing on an idle echo connection and
 * has no keepalive), so its client would not reconnect.
 */
@KernelTest
@TestMethodOrder(OrderAnnotation.class)
class SaveRestoreVmTest {
    /** How long the guest stays saved. */
    private static final long HOLD_MILLIS = 60_000;
    private static final int ETIMEDOUT = 110;

    private static VmRig vm;

    @BeforeAll
    static void bootGuest() throws Exception {
        vm = VmRig.start("SaveRestoreVmTest");
        VmRig.report("boot: virsh start to guest ready " + vm.bootMillis() + " ms, to the agent's channel open "
                + vm.agentReadyMillis() + " ms");
    }

    @AfterAll
    static void removeRig() {
        if (vm != null) {
            vm.close();
        }
    }

    /** Scenario 1: {@code tcpferry save DOMAIN FILE}, 60 s, {@code tcpferry restore FILE} on the same host. */
    @Test
    @Order(1)
    void cliSaveAndRestoreCarryTheConnection() throws Exception {
        VmHost host = vm.host(0);
        try (CarriedScenario run = CarriedScenario.begin(vm, "scenario 1 (tcpferry save/restore)")) {
            Shell.Result save = CarriedScenario.untilAgentConnected(180, () -> host.daemon().cli(120, "save", vm.domain(),
                    vm.saveFile().toString(), "--connect", host.libvirt().uri(), "--json"));
            long saveStart = System.nanoTime() - save.millis() * 1_000_000; // the successful try's start
            run.phase("tcpferry save", save);
            VmRig.report("scenario 1: save " + save.stdout().strip());
            Thread.sleep(HOLD_MILLIS);
            run.phaseSince("save start to restore start", saveStart);
            run.assertAlive("while the guest was saved");
            Shell.Result restore = host.daemon().cli(180, "restore", vm.saveFile().toString(), "--connect",
                    host.libvirt().uri(), "--json");
            assertThat(restore.succeeded()).as("tcpferry restore: %s\n%s", restore.describe(), vm.diagnostics()).isTrue();
            vm.runsOn(host);
            run.phase("tcpferry restore", restore);
            run.phaseSince("save start to restore done", saveStart);
            VmRig.report("scenario 1: restore " + restore.stdout().strip());
            run.finishByteExact();
        }
    }

    /**
     * Scenario 2: plain {@code virsh save} and {@code virsh restore}, with the hook and libvirt events.
     * A plain save gives tcpferry no chance to hand off: libvirt calls no hook before the guest stops
     * (the saving host gets {@code stopped end} and {@code release end} after the image is written), and
     * its first event, SUSPENDED, comes when the vCPUs are already paused, so the agent cannot run. So
     * the handoff is ordered explicitly (as an orchestrator that then calls {@code virsh save} would),
     * and the rest is libvirt's: hostd watches libvirt, sees the domain STARTED (restored) and reclaims
     * by itself with the real agent; nobody calls {@code tcpferry reclaim}. hostd is restarted for
     * this with {@code libvirt.uri} set, which also shows the agent taking a new host session on the
     * same virtio-serial port.
     */
    @Test
    @Order(2)
    void plainVirshSaveAndRestoreWithHookAndEvents() throws Exception {
        VmHost host = vm.host(0);
        HostDaemon daemon = host.daemon();
        daemon.restart(daemon.settings().withLibvirtUri(host.libvirt().uri()));
        try (CarriedScenario run = CarriedScenario.begin(vm, "scenario 2 (virsh save/restore, hook + events)")) {
            Shell.Result handoff = CarriedScenario.untilAgentConnected(180, () -> daemon.control("handoff"));
            run.phase("handoff", handoff.millis());
            // The agent took the restarted hostd's session on the port it opened at boot: it saw the
            // host go (the port reads end of file) and waited without reopening or spinning.
            assertThat(vm.consoleCount("event=opened channel=/dev/virtio-ports/")).as("port opens\n%s", vm.diagnostics())
                    .isEqualTo(1);
            assertThat(vm.consoleCount("event=host_absent")).as("host absences seen\n%s", vm.diagnostics())
                    .isGreaterThanOrEqualTo(1);
            long saveStart = System.nanoTime();
            run.phase("virsh save", vm.save());
            Thread.sleep(HOLD_MILLIS);
            run.phaseSince("save start to restore start", saveStart);
            run.assertAlive("while the guest was saved");
            long restoreStart = System.nanoTime();
            run.phase("virsh restore", vm.restoreOn(host));
            vm.awaitEchoBeyond(run.peer(), run.peer().echoed(), 120);
            run.phaseSince("virsh restore start to echo flowing (automatic reclaim)", restoreStart);
            run.phaseSince("save start to echo flowing", saveStart);
            // hostd logs the automatic reclaim once the agent has answered, after the echo resumed.
            long logDeadline = System.nanoTime() + 30_000_000_000L;
            while (!daemon.logged("event=auto_reclaim domain=" + vm.domain(), 1) && System.nanoTime() < logDeadline) {
                Thread.sleep(200);
            }
            assertThat(daemon.logged("event=auto_reclaim domain=" + vm.domain(), 1))
                    .as("hostd reclaimed on the libvirt event\n%s", vm.diagnostics()).isTrue();
            assertThat(Files.readString(host.hookLog())).contains("op=restore subop=begin extra=- outcome=delivered");
            run.finishByteExact();
        }
    }

    /** Scenario 3 (control): a plain save without a handoff: the peer times out while the guest is saved. */
    @Test
    @Order(3)
    void withoutHandoffThePeerDropsTheConnectionWhileTheGuestIsSaved() throws Exception {
        EchoPeer peer = vm.acceptConnection(180);
        try {
            vm.awaitEchoBeyond(peer, 0, 60);
            long saveStart = System.nanoTime();
            long save = vm.save();
            long deadline = saveStart + 45_000_000_000L;
            while (peer.failure() == null && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(peer.failure()).as("peer failure after the guest was saved\n%s", vm.diagnostics()).isNotNull();
            assertThat(peer.failureErrno()).as(peer.failure()).isEqualTo(ETIMEDOUT);
            long dropped = (peer.failedAtNanos() - saveStart) / 1_000_000;
            long restore = vm.restoreOn(vm.host(0));
            VmRig.report("scenario 3 (control): virsh save " + save + " ms; peer ETIMEDOUT " + dropped
                    + " ms after save began; virsh restore " + restore + " ms");
        } finally {
            peer.close();
        }
    }
}
