package org.tcpferry.tests.agent;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.tcpferry.agent.core.Carried;
import org.tcpferry.agent.core.Phase;
import org.tcpferry.protocol.HandoffOrder;
import org.tcpferry.protocol.ReclaimOrder;
import org.tcpferry.protocol.Selection;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.rig.StandardTopology;
import org.tcpferry.tests.agent.AgentBed.App;

/**
 * Two things the hand-back must carry besides the bytes: data the application had queued but the
 * peer had not read when it was frozen (the peer stopped reading, so the echo piled up in the
 * guest's send queue), and a FIN the peer sent while the host held the connection. After reclaim
 * the application sends its queued bytes, reads the rest, sees end of stream and finishes its own
 * side; the peer gets the whole echo and the guest's FIN.
 */
@KernelTest
class PeerFinAndQueuedDataTest {

    @Test
    void queuedDataGoesOutAndThePeersFinArrivesAfterReclaim() throws Exception {
        try (AgentBed bed = AgentBed.create("agent-fin")) {
            App app = bed.app("client", StandardTopology.PEER_V4, 7301, 1, AgentBed.impatientStreaming(16 * 1024, 5));
            PeerEcho peer = app.peers.get(0);
            peer.pauseReading(true); // the guest's echo backs up into its send queue
            Thread.sleep(1_500);

            bed.order(new HandoffOrder(Selection.all()));
            bed.awaitPhase(Phase.HANDED_OFF, 1, 20_000);
            Carried carried = bed.agent.connections().get(0);
            int queued = carried.dump().unacked().length + carried.dump().unsent().length;
            System.out.printf("queued at freeze: %d unacked + %d unsent bytes%n", carried.dump().unacked().length,
                    carried.dump().unsent().length);
            assertThat(queued).as("bytes the application had queued at freeze").isPositive();

            peer.pauseReading(false); // the host's copy sends the queued bytes while it holds the connection
            Thread.sleep(1_000);
            peer.sendFin(); // and the peer finishes its side during the hold
            Thread.sleep(4_000);
            assertThat(peer.failure()).isNull();
            // Checked while the owner is frozen: right after the reclaim the app reads the peer's FIN
            // and closes its socket, so its descriptors can be gone before anyone looks. That it kept
            // working on the same descriptor to the end is what app.finish proves below.
            assertThat(app.sockets()).containsAllEntriesOf(app.socketsBefore);

            bed.order(new ReclaimOrder());
            bed.awaitAllBack(1, 20_000);
            assertThat(bed.agent.reports().get(0).phase()).isEqualTo(Phase.CONFORMED);
            System.out.println("echoed byte-exact both ways: " + app.finish(20_000));
        }
    }
}
