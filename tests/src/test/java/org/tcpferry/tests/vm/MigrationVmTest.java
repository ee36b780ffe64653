package org.tcpferry.tests.vm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer.OrderAnnotation;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.vmrig.CarriedScenario;
import org.tcpferry.vmrig.Shell;
import org.tcpferry.vmrig.VmHost;
import org.tcpferry.vmrig.VmRig;

/**
 * Migrations between two libvirt hosts on one L2 segment (each with its own libvirtd, hostd with its
 * peer endpoint, and the hook), with the peer streaming both ways with the guest (TCP_USER_TIMEOUT
 * 3 s, keepalive 1 s / 1 s / 2). One guest boot serves the scenarios, in order.
 */
@KernelTest
@TestMethodOrder(OrderAnnotation.class)
class MigrationVmTest {
    private static final int LIBVIRT_FAILED = 5;

    private static VmRig vm;

    @BeforeAll
    static void bootGuest() throws Exception {
        vm = VmRig.start("MigrationVmTest", new VmRig.Options(2, false));
        VmRig.report("boot (two hosts): virsh start to guest ready " + vm.bootMillis()
                + " ms, to the agent's channel open " + vm.agentReadyMillis() + " ms");
    }

    @AfterAll
    static void removeRig() {
        if (vm != null) {
            vm.close();
        }
    }

    /**
     * Scenario 6: {@code tcpferry migrate --live} hands off, then the destination refuses the incoming
     * migration (its hook fails {@code migrate begin}, so libvirt cancels it): the guest keeps running
     * on the source, the CLI gives its connections back, and the stream is byte-exact.
     */
    @Test
    @Order(1)
    void failedMigrationGivesTheConnectionsBackOnTheSource() throws Exception {
        VmHost source = vm.host(0);
        VmHost destination = vm.host(1);
        destination.refuseIncomingMigrations();
        try (CarriedScenario run = CarriedScenario.begin(vm, "scenario 6 (failed migration)")) {
            long start = System.nanoTime();
            Shell.Result migrate = CarriedScenario.untilAgentConnected(180, () -> {
                Shell.Result r = source.daemon().cli(300, "migrate", vm.domain(), destination.migrationUri(), "--live",
                        "--connect", source.libvirt().uri(), "--json");
                // Exit 5 with a failed libvirt step is this scenario's expected outcome: stop retrying.
                return r.exitCode() == LIBVIRT_FAILED ? new Shell.Result(r.command(), 0, r.stdout(), r.stderr(), r.millis())
                        : r;
            });
            run.phase("tcpferry migrate (handoff, refused migration, reclaim)", migrate.millis());
            VmRig.report("scenario 6: " + migrate.stdout().strip() + " / " + migrate.stderr().strip().replace('\n', ' '));
            assertThat(migrate.stderr()).as(migrate.describe()).contains("given back to the guest, which still runs here");
            assertThat(migrate.stdout()).contains("\"handoff\"").contains("\"reclaim\"");
            assertThat(source.libvirt().virsh("domstate", vm.domain()).stdout().strip()).isEqualTo("running");
            run.phaseSince("migrate start to echo flowing", start);
            run.finishByteExact();
        } finally {
            destination.acceptIncomingMigrations();
        }
    }

    /**
     * The agent's channel after the host side changed under it: a plain live migration (no handoff;
     * its downtime is well inside the peer's 3 s) moves the guest to host B, whose hostd connects to
     * the new QEMU's channel. The agent keeps the port it opened at boot (it never reopens it) and
     * serves host B: a handoff and a reclaim there carry the connection, byte-exact.
     */
    @Test
    @Order(2)
    void afterAPlainMigrationTheAgentServesTheDestinationHostOnTheSamePort() throws Exception {
        VmHost source = vm.host(0);
        VmHost destination = vm.host(1);
        try (CarriedScenario run = CarriedScenario.begin(vm, "channel after migration (local carry on host B)")) {
            run.phase("virsh migrate --live --p2p", source.libvirt().virsh("migrate", "--live", "--p2p", vm.domain(),
                    destination.migrationUri()).millis());
            vm.runsOn(destination);
            run.assertAlive("after the plain migration");
            Shell.Result handoff = CarriedScenario.untilAgentConnected(180, () -> destination.daemon().control("handoff"));
            run.phase("handoff on B", handoff.millis());
            Thread.sleep(5000);
            Shell.Result reclaim = CarriedScenario.untilAgentConnected(120, () -> destination.daemon().control("reclaim"));
            run.phase("reclaim on B", reclaim.millis());
            assertThat(vm.consoleCount("event=hello from=" + destination.name())).as(vm.diagnostics()).isGreaterThanOrEqualTo(1);
            assertThat(vm.consoleCount("event=opened channel=")).as("the port was not reopened on B\n%s", vm.diagnostics())
                    .isZero();
            run.finishByteExact();
        }
    }
}
