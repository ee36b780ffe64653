package org.tcpferry.tests.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tcpferry.rig.StandardTopology.PEER_V4;

import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.tcpferry.host.hold.CrashPoint;
import org.tcpferry.protocol.ControlReply;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.tests.agent.AgentBed;
import org.tcpferry.tests.agent.AgentBed.App;
import org.tcpferry.tests.agent.HostdProcess;
import org.tcpferry.tests.host.HostLeftovers;

/**
 * The fault matrix's host manager rows: {@code bin/tcpferry hostd} kills itself with SIGKILL at
 * one step of handoff, release or confirm ({@link CrashPoint}), is started again, and the two
 * streaming connections of a guest application come through byte-exact both ways on
 * the same descriptors, with nothing left behind once the host manager stops. What each step
 * leaves, and why the outcome is right, is in docs/reliability.md.
 */
@KernelTest
class HostdCrashTest {
    private static final int CONNECTIONS = 2;

    @ParameterizedTest
    @EnumSource(CrashPoint.class)
    void hostManagerKilledAtAStepLosesNothing(CrashPoint point) throws Exception {
        try (AgentBed bed = AgentBed.create("hostd-crash", true, true, false)) {
            try {
                run(bed, point);
            } catch (Exception | AssertionError e) {
                System.out.println("hostd log:\n" + bed.hostd().tail());
                throw e;
            }
        }
    }

    private static void run(AgentBed bed, CrashPoint point) throws Exception {
        HostdProcess hostd = bed.hostd();
        // Between unsteer and confirm nobody acknowledges the peer: a host manager killed there is
        // silent until it runs again, longer than an impatient peer's 3 s (docs/reliability.md).
        boolean silentUntilRestart = point != CrashPoint.AFTER_RESTORE;
        App app = bed.app("client", PEER_V4, 7960 + point.ordinal(), CONNECTIONS, silentUntilRestart
                ? AgentBed.patientStreaming(2048, 20) : AgentBed.impatientStreaming(2048, 20));
        Thread.sleep(500);
        hostd.stop();
        hostd.start(Map.of("TCPFERRY_CRASH_AT", point.name()));
        bed.awaitConnected();

        if (point == CrashPoint.AFTER_RESTORE) {
            controlUntilDeath(bed, "handoff");
        } else {
            ControlReply handoff = bed.control("handoff");
            assertThat(handoff.exitCode()).as(handoff.json()).isZero();
            assertThat(bed.heldByHostA()).isEqualTo(CONNECTIONS);
            Thread.sleep(1_500);
            controlUntilDeath(bed, "reclaim");
        }
        hostd.awaitDeath(30_000);
        Thread.sleep(4_000); // longer than an impatient peer's patience
        hostd.start();
        bed.awaitConnected();

        if (point == CrashPoint.AFTER_RESTORE) {
            // The agent rolled back when the channel broke; the restarted host closed the copy silently.
            assertThat(bed.heldByHostA()).as("copies held after the restart").isZero();
        } else {
            // The release was never confirmed: the restarted host holds every connection again.
            AgentBed.await(() -> bed.heldByHostA() == CONNECTIONS, 30_000, "both connections held again");
            ControlReply reclaim = bed.control("reclaim");
            assertThat(reclaim.exitCode()).as(reclaim.json()).isZero();
            AgentBed.await(() -> bed.heldByHostA() == 0, 30_000, "the agent to take both connections back");
        }
        AgentBed.await(() -> bed.agent().connections().isEmpty(), 30_000, "the agent to settle every connection");
        assertThat(app.sockets()).as("the application's descriptors").containsAllEntriesOf(app.socketsBefore);
        System.out.println(point + ": echoed byte-exact both ways: " + app.finish(30_000));

        assertThat(hostd.stop()).as("hostd exit code").isZero();
        HostLeftovers.assertNone(bed.net().hostA(), bed.dir().resolve("spool"));
    }

    /** Sends a control verb that makes the host manager reach its crash point; its answer never comes. */
    private static void controlUntilDeath(AgentBed bed, String verb) throws Exception {
        ControlReply reply;
        try {
            reply = bed.hostd().control(verb, Map.of("domain", AgentBed.DOMAIN));
        } catch (IOException expected) {
            return; // the control connection closed with the daemon
        }
        throw new AssertionError(verb + " answered although the host manager should have died: " + reply.json());
    }
}
