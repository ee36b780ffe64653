package org.tcpferry.tests.agent;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.tcpferry.agent.core.CarriedReport;
import org.tcpferry.agent.core.CrashPoint;
import org.tcpferry.agent.core.Phase;
import org.tcpferry.protocol.HandoffOrder;
import org.tcpferry.protocol.ReclaimOrder;
import org.tcpferry.protocol.Selection;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.rig.StandardTopology;
import org.tcpferry.tests.agent.AgentBed.App;

/**
 * An agent that dies in the middle of an operation (stopped dead at a {@link CrashPoint}: its
 * channel and descriptors closed, its journal, firewall table and frozen owners left as they are)
 * and a new agent started on the same journal: the connections end up carried by their original
 * sockets, byte-exact, whichever step the first agent reached.
 */
@KernelTest
class AgentRestartTest {

    @Test
    void killedAfterTheFirstDumpRollsBackFromItsDumpAndLeavesTheOthersInPlace() throws Exception {
        crashAndRestart(CrashPoint.AFTER_DUMP, 7401, Phase.ROLLED_BACK);
    }

    @Test
    void killedAfterTheHostAcceptedButBeforeJournalingItAsksTheHostAndReclaimsItsCopies() throws Exception {
        // Restoring from the agent's own dump here would race the host's live copies.
        crashAndRestart(CrashPoint.BEFORE_ACCEPTANCE_JOURNALED, 7404, Phase.CONFORMED);
    }

    @Test
    void killedBeforeHandoffCompleteReclaimsWhenTheHostReconnects() throws Exception {
        crashAndRestart(CrashPoint.BEFORE_HANDOFF_COMPLETE, 7402, Phase.CONFORMED);
    }

    @Test
    void killedDuringReclaimReleasesAgain() throws Exception {
        crashAndRestart(CrashPoint.AFTER_FIRST_CONFORM, 7403, Phase.CONFORMED);
    }

    private void crashAndRestart(CrashPoint point, int port, Phase expected) throws Exception {
        try (AgentBed bed = AgentBed.create("agent-restart")) {
            // Patient peers: while no agent runs, nobody answers for a connection that was dumped and not handed off.
            App app = bed.app("client", StandardTopology.PEER_V4, port, 2, AgentBed.patientStreaming(4096, 20));
            Thread.sleep(300);
            if (point != CrashPoint.AFTER_FIRST_CONFORM) {
                bed.agent.simulateCrashAt(point);
            }
            bed.order(new HandoffOrder(Selection.all()));
            if (point == CrashPoint.AFTER_FIRST_CONFORM) {
                bed.awaitPhase(Phase.HANDED_OFF, 2, 20_000);
                Thread.sleep(2_000);
                bed.agent.simulateCrashAt(point);
                bed.order(new ReclaimOrder());
            }
            AgentBed.await(bed.agent::crashed, 20_000, "the agent to stop at " + point);
            Thread.sleep(2_000); // the peers keep going (held by the host) or wait (retransmitting)

            long start = System.nanoTime();
            bed.restartAgent();
            bed.awaitAllBack(2, 30_000);
            System.out.printf("%s: back %d ms after restart%n", point, (System.nanoTime() - start) / 1_000_000);
            for (CarriedReport r : bed.agent.reports()) {
                System.out.println("carried " + r);
                assertThat(r.phase()).isEqualTo(expected);
            }
            assertThat(bed.hostA.status().path("domains").get(0).path("connections").size()).as("held by host A").isZero();
            assertThat(app.sockets()).containsAllEntriesOf(app.socketsBefore);
            System.out.println("echoed byte-exact both ways: " + app.finish(30_000));
        }
    }
}
