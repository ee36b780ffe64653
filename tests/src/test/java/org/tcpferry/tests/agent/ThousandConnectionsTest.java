package org.tcpferry.tests.agent;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.tcpferry.agent.core.CarriedReport;
import org.tcpferry.agent.core.Phase;
import org.tcpferry.protocol.HandoffOrder;
import org.tcpferry.protocol.ReclaimOrder;
import org.tcpferry.protocol.Selection;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.rig.StandardTopology;
import org.tcpferry.tests.agent.AgentBed.App;

/**
 * One application with 1000 connections handed off at once and taken back; every one echoes
 * byte-exact. The peers keep default timeouts: the host manager restores about 200 copies a
 * second here, so the last of 1000 is silent for longer than a 3 s TCP_USER_TIMEOUT allows.
 */
@KernelTest
class ThousandConnectionsTest {
    private static final int N = 1000;

    @Test
    void thousandConnectionsGoAndComeBack() throws Exception {
        try (AgentBed bed = AgentBed.create("agent-1000")) {
            App app = bed.app("client", StandardTopology.PEER_V4, 7601, N, AgentBed.patientStreaming(512, 500));
            Thread.sleep(1_000);

            long start = System.nanoTime();
            bed.order(new HandoffOrder(Selection.all()));
            bed.awaitPhase(Phase.HANDED_OFF, N, 120_000);
            long handoffMillis = (System.nanoTime() - start) / 1_000_000;

            Thread.sleep(5_000);
            for (PeerEcho p : app.peers) {
                assertThat(p.failure()).as("peer error during the hold").isNull();
            }

            start = System.nanoTime();
            bed.order(new ReclaimOrder());
            bed.awaitAllBack(N, 120_000);
            long reclaimMillis = (System.nanoTime() - start) / 1_000_000;
            System.out.printf("%d connections: handoff %d ms, reclaim %d ms%n", N, handoffMillis, reclaimMillis);
            for (CarriedReport r : bed.agent.reports()) {
                assertThat(r.phase()).as(r.flow()).isEqualTo(Phase.CONFORMED);
            }
            assertThat(app.sockets()).containsAllEntriesOf(app.socketsBefore);
            app.finish(60_000);
        }
    }
}
