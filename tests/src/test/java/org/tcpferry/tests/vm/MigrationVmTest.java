package org.tcpferry.tests.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer.OrderAnnotation;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.vmrig.CarriedScenario;
import org.tcpferry.vmrig.HostDaemon;
import org.tcpferry.vmrig.Shell;
import org.tcpferry.vmrig.VmHost;
import org.tcpferry.vmrig.VmRig;

/**
 * Migrations and a cross-host restore between two libvirt hosts on one L2 segment (each with its own
 * libvirtd, the hook, and hostd with a peer endpoint that knows the other host: the relay), with the
 * peer streaming both ways with the guest (TCP_USER_TIMEOUT 3 s, keepalive 1 s / 1 s / 2). One guest
 * boot serves the scenarios, in order; where the guest runs after each is in its comment. The
 * reclaims after a move go through the host the guest reaches, which relays to the holder.
 */
@KernelTest
@TestMethodOrder(OrderAnnotation.class)
class MigrationVmTest {
    private static final int LIBVIRT_FAILED = 5;
    /** How long the guest stays paused or saved in scenarios 4 and 5. */
    private static final long HOLD_MILLIS = 60_000;

    private static VmRig vm;
    private static VmHost hostA;
    private static VmHost hostB;

    @BeforeAll
    static void bootGuest() throws Exception {
        // Both host managers watch their libvirtd and configure no domain: each learns the guest from
        // libvirt (host A when it is defined there, host B when it migrates in), as on real hosts.
        vm = VmRig.start("MigrationVmTest", new VmRig.Options(2, true));
        hostA = vm.host(0);
        hostB = vm.host(1);
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
     * Scenario 6 (guest stays on A): {@code tcpferry migrate --live} hands off, then the destination
     * refuses the incoming migration (its hook fails {@code migrate begin}, so libvirt cancels it): the
     * guest keeps running on the source, the CLI gives its connections back, the stream is byte-exact.
     */
    @Test
    @Order(1)
    void failedMigrationGivesTheConnectionsBackOnTheSource() throws Exception {
        hostB.refuseIncomingMigrations();
        try (CarriedScenario run = CarriedScenario.begin(vm, "scenario 6 (failed migration)")) {
            long start = System.nanoTime();
            Shell.Result migrate = CarriedScenario.untilAgentConnected(180, () -> {
                Shell.Result r = migrate(hostA, hostB, "--live");
                // Exit 5 (a libvirt step failed) is this scenario's expected outcome: stop retrying.
                return r.exitCode() == LIBVIRT_FAILED ? new Shell.Result(r.command(), 0, r.stdout(), r.stderr(), r.millis())
                        : r;
            });
            run.phase("tcpferry migrate (refused by B)", migrate);
            VmRig.report("scenario 6: " + migrate.stdout().strip());
            assertThat(migrate.stderr()).as(migrate.describe()).contains("given back to the guest, which still runs here");
            assertThat(migrate.stdout()).contains("\"handoff\"").contains("\"reclaim\"");
            assertThat(hostA.libvirt().virsh("domstate", vm.domain()).stdout().strip()).isEqualTo("running");
            run.phaseSince("migrate start to echo flowing", start);
            run.finishByteExact();
        } finally {
            hostB.acceptIncomingMigrations();
        }
    }

    /**
     * Scenario 4, live (A to B): {@code tcpferry migrate --live} with the copies held on the source; the
     * reclaim is ordered on B, which relays the releases to A. Also the agent's channel after the host
     * side changed under it: the agent serves B's hostd on the port it opened at boot (never reopened).
     */
    @Test
    @Order(2)
    void liveMigrationWithCopiesOnTheSource() throws Exception {
        try (CarriedScenario run = CarriedScenario.begin(vm, "scenario 4 live (A to B, held on A)")) {
            long start = System.nanoTime();
            Shell.Result migrate = CarriedScenario.untilAgentConnected(180, () -> migrate(hostA, hostB, "--live",
                    "--reclaim-socket", hostB.daemon().controlSocket().toString()));
            vm.runsOn(hostB);
            run.phase("tcpferry migrate --live (reclaim through B)", migrate);
            VmRig.report("scenario 4 live: " + migrate.stdout().strip());
            assertThat(migrate.succeeded()).as("%s\n%s", migrate.describe(), vm.diagnostics()).isTrue();
            run.phaseSince("migrate start to echo flowing", start);
            run.finishByteExact();
            // Neither host manager had the domain in its config: A learnt it when it was defined, B
            // when it migrated in (then B reached the agent's channel and relayed the releases to A).
            assertThat(hostA.daemon().logged("event=domain_added domain=" + vm.domain(), 1)).as(vm.diagnostics()).isTrue();
            assertThat(hostB.daemon().logged("event=domain_added domain=" + vm.domain(), 1)).as(vm.diagnostics()).isTrue();
            assertThat(vm.consoleCount("event=hello from=" + hostB.name())).as(vm.diagnostics()).isGreaterThanOrEqualTo(1);
            assertThat(vm.consoleCount("event=opened channel=")).as("the port was not reopened on B\n%s", vm.diagnostics())
                    .isZero();
        }
    }

    /**
     * Scenario 4, paused (B to A): {@code tcpferry migrate --suspend}, copies held on the source (B);
     * the guest arrives paused on A and stays paused 60 s (the segment still sends the peer's packets
     * to B: QEMU announces the guest's MAC only at {@code cont}); then {@code virsh resume} on A, and
     * the agent, greeted by A's hostd, reclaims by itself through A, which relays to B.
     */
    @Test
    @Order(3)
    void pausedMigrationHeldOnTheSourceFor60Seconds() throws Exception {
        try (CarriedScenario run = CarriedScenario.begin(vm, "scenario 4 paused (B to A, held on B, paused 60 s)")) {
            Shell.Result migrate = CarriedScenario.untilAgentConnected(180, () -> migrate(hostB, hostA, "--suspend"));
            assertThat(hostA.libvirt().virsh("domstate", vm.domain()).stdout().strip()).isEqualTo("paused");
            pausedThenResumed(run, migrate, hostA, HOLD_MILLIS, "agent's reclaim through A, relayed to B");
        }
    }

    /**
     * Scenario 5 (A, then B): {@code tcpferry save} on A (copies held on A), 60 s, {@code tcpferry
     * restore} of the same image on B, whose reclaim is relayed to A.
     */
    @Test
    @Order(4)
    void saveOnOneHostRestoreOnTheOther() throws Exception {
        try (CarriedScenario run = CarriedScenario.begin(vm, "scenario 5 (save on A, restore on B after 60 s)")) {
            Shell.Result save = CarriedScenario.untilAgentConnected(180, () -> hostA.daemon().cli(120, "save", vm.domain(),
                    vm.saveFile().toString(), "--connect", hostA.libvirt().uri(), "--json"));
            assertThat(save.succeeded()).as(save.describe()).isTrue();
            long saveStart = System.nanoTime() - save.millis() * 1_000_000;
            run.phase("tcpferry save on A", save);
            Thread.sleep(HOLD_MILLIS);
            run.assertAlive("while the guest was saved");
            run.phaseSince("save start to restore start", saveStart);
            Shell.Result restore = hostB.daemon().cli(180, "restore", vm.saveFile().toString(), "--connect",
                    hostB.libvirt().uri(), "--json");
            vm.runsOn(hostB);
            VmRig.report("scenario 5: restore " + restore.stdout().strip());
            assertThat(restore.succeeded()).as("%s\n%s", restore.describe(), vm.diagnostics()).isTrue();
            run.phase("tcpferry restore on B (reclaim relayed to A)", restore);
            run.finishByteExact();
        }
    }

    /**
     * Scenario 7 (B to A): {@code tcpferry migrate --suspend --hold-on target}: B relays the handoff to
     * A, whose copies hold while the guest moves and A announces the guest's MAC so the peer's packets
     * come to it; the guest stays paused on A for 10 s, is resumed, and reclaims locally on A.
     */
    @Test
    @Order(5)
    void pausedMigrationWithCopiesOnTheTarget() throws Exception {
        try (CarriedScenario run = CarriedScenario.begin(vm, "scenario 7 (B to A, --hold-on target, paused 10 s)")) {
            Shell.Result migrate = CarriedScenario.untilAgentConnected(180,
                    () -> migrate(hostB, hostA, "--suspend", "--hold-on", "target"));
            VmRig.report("scenario 7: " + migrate.stdout().strip());
            pausedThenResumed(run, migrate, hostA, 10_000, "local reclaim on A");
        }
    }

    /**
     * Scenario 8 (A to B): a plain {@code virsh migrate --live}, which tells tcpferry nothing. Host A's
     * manager runs with {@code libvirt.handoffOnMigration}: it sees the domain's outgoing migration
     * job while the guest still runs and orders the handoff; the guest arrives on B, whose manager
     * greets the agent, and the agent reclaims through B (relayed to A, which holds the copies).
     */
    @Test
    @Order(6)
    void plainVirshLiveMigrationIsHandedOffByTheSourceOnItsOwn() throws Exception {
        HostDaemon daemon = hostA.daemon();
        int connectedBefore = daemon.timesLogged("event=guest_connected domain=" + vm.domain());
        daemon.restart(daemon.settings().withHandoffOnMigration(true));
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (daemon.timesLogged("event=guest_connected domain=" + vm.domain()) <= connectedBefore) {
            assertThat(System.nanoTime()).as("host A's restarted manager to reach the agent\n%s", vm.diagnostics())
                    .isLessThan(deadline);
            Thread.sleep(200);
        }
        try (CarriedScenario run = CarriedScenario.begin(vm, "scenario 8 (plain virsh migrate --live A to B, "
                + "handoffOnMigration on A)")) {
            long start = System.nanoTime();
            Shell.Result migrate = Shell.check(300, "nsenter", "--net=" + hostA.namespace().file(), "virsh", "-q", "-c",
                    hostA.libvirt().uri(), "migrate", "--live", vm.domain(), hostB.migrationUri());
            vm.runsOn(hostB);
            run.phase("virsh migrate --live", migrate.millis());
            vm.awaitEchoBeyond(run.peer(), run.peer().echoed(), 120);
            run.phaseSince("migrate start to echo flowing", start);
            run.finishByteExact();
            List<String> handoffs = daemon.linesWith("event=auto_handoff domain=" + vm.domain());
            VmRig.report("scenario 8: " + handoffs);
            assertThat(daemon.logged("event=migration_out_started domain=" + vm.domain(), 1)).as(vm.diagnostics()).isTrue();
            assertThat(handoffs).as("host A handed the connection off on its own\n%s", vm.diagnostics())
                    .anySatisfy(line -> assertThat(line).contains("exit=0").contains("\"handedOff\":1"));
        }
    }

    /**
     * After a {@code --suspend} migration to {@code destination}: the guest stays paused there for
     * {@code pauseMillis} while the copies keep the peer's connection, then {@code virsh resume}; the
     * agent reclaims when the destination's hostd greets it. Ends with the byte-exact check.
     */
    private static void pausedThenResumed(CarriedScenario run, Shell.Result migrate, VmHost destination, long pauseMillis,
            String reclaimedBy) throws Exception {
        long arrived = System.nanoTime();
        vm.runsOn(destination);
        assertThat(migrate.succeeded()).as("%s\n%s", migrate.describe(), vm.diagnostics()).isTrue();
        run.phase("tcpferry migrate --suspend", migrate);
        Thread.sleep(pauseMillis);
        run.assertAlive("while the guest was paused on " + destination.name());
        run.phaseSince("paused on " + destination.name(), arrived);
        long resume = System.nanoTime();
        run.phase("virsh resume", destination.libvirt().virsh("resume", vm.domain()).millis());
        vm.awaitEchoBeyond(run.peer(), run.peer().echoed(), 120);
        run.phaseSince("resume to echo flowing (" + reclaimedBy + ")", resume);
        run.finishByteExact();
    }

    /** {@code tcpferry migrate DOMAIN DEST ARGS... --connect FROM --json} on {@code from}. */
    private static Shell.Result migrate(VmHost from, VmHost to, String... args) {
        String[] command = new String[args.length + 6];
        command[0] = "migrate";
        command[1] = vm.domain();
        command[2] = to.migrationUri();
        System.arraycopy(args, 0, command, 3, args.length);
        command[args.length + 3] = "--connect";
        command[args.length + 4] = from.libvirt().uri();
        command[args.length + 5] = "--json";
        return from.daemon().cli(300, command);
    }
}
