package org.tcpferry.tests.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tcpferry.rig.StandardTopology.PEER_V4;

import java.nio.file.Files;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.tcpferry.agent.core.CrashPoint;
import org.tcpferry.protocol.ControlReply;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.tests.agent.AgentBed;
import org.tcpferry.tests.agent.AgentBed.App;

/**
 * The fault matrix's guest agent rows: {@code bin/tcpferry-agent run}, a process of its own, kills
 * itself with SIGKILL at one step of handoff or reclaim ({@link CrashPoint}); a new agent process
 * on the same journal finishes or undoes what it left, and the guest application's two streaming
 * connections come through byte-exact both ways on the same descriptors, with nothing held and the
 * agent's firewall table gone.
 */
@KernelTest
class AgentCrashTest {
    private static final int CONNECTIONS = 2;

    @ParameterizedTest
    @EnumSource(value = CrashPoint.class, names = "NONE", mode = EnumSource.Mode.EXCLUDE)
    void agentProcessKilledAtAStepLosesNothing(CrashPoint point) throws Exception {
        try (AgentBed bed = AgentBed.create("agent-crash", false, false)) {
            try {
                run(bed, point);
            } catch (Exception | AssertionError e) {
                System.out.println("agent log:\n" + Files.readString(bed.dir().resolve("agent.log")));
                throw e;
            }
        }
    }

    private static void run(AgentBed bed, CrashPoint point) throws Exception {
        // After its first dump the dying agent leaves that connection detached and blocked until a
        // new agent rolls it back: silent longer than an impatient peer's 3 s. Elsewhere the host
        // holds (or holds again) the connections while no agent runs.
        boolean silentUntilRestart = point == CrashPoint.AFTER_DUMP;
        App app = bed.app("client", PEER_V4, 7970 + point.ordinal(), CONNECTIONS, silentUntilRestart
                ? AgentBed.patientStreaming(2048, 20) : AgentBed.impatientStreaming(2048, 20));
        Thread.sleep(500);
        bed.respawnAgent(Map.of("TCPFERRY_AGENT_CRASH_AT", point.name()));

        if (point == CrashPoint.AFTER_FIRST_CONFORM) {
            ControlReply handoff = bed.control("handoff");
            assertThat(handoff.exitCode()).as(handoff.json()).isZero();
            assertThat(bed.heldByHostA()).isEqualTo(CONNECTIONS);
            Thread.sleep(1_500);
            bed.control("reclaim"); // answered with an error: the agent dies on the way
        } else {
            bed.control("handoff");
        }
        bed.awaitAgentDeath(30_000);
        Thread.sleep(4_000); // longer than an impatient peer's patience
        bed.spawnAgent();
        bed.awaitConnected();

        AgentBed.await(() -> bed.heldByHostA() == 0, 30_000, "every connection back in the guest");
        AgentBed.await(() -> bed.guest().execAllowFailure("nft", "list", "tables").stdout().isEmpty(), 20_000,
                "the agent's table to go");
        assertThat(app.sockets()).as("the application's descriptors").containsAllEntriesOf(app.socketsBefore);
        System.out.println(point + ": echoed byte-exact both ways: " + app.finish(30_000));
        assertThat(Files.readString(bed.dir().resolve("agent.log"))).contains("event=crash_point point=" + point);
    }
}
