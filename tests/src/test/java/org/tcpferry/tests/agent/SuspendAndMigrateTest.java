package org.tcpferry.tests.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.tcpferry.agent.core.Phase;
import org.tcpferry.protocol.HandoffOrder;
import org.tcpferry.protocol.PortRange;
import org.tcpferry.protocol.Selection;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.rig.StandardTopology;
import org.tcpferry.tests.agent.AgentBed.App;

/**
 * The whole story once, at full length: two guest connections to peers that give up 3 s after the
 * guest goes silent (TCP_USER_TIMEOUT 3 s, keepalive 1/1/2). The handoff order selects one of them
 * by remote port; the other is the control run without tcpferry. The guest is suspended for 60 s
 * (its link down), then migrates to host B and announces itself. The carried connection comes
 * back on the same descriptor, byte-exact both ways; the control connection died within seconds.
 *
 * <p>Host A keeps holding the copy while the guest moves; after the move the guest's channel
 * reaches only host B's manager, which relays the agent's release to host A over the peer
 * endpoint.
 */
@KernelTest
class SuspendAndMigrateTest {
    private static final int CARRIED_PORT = 7501;
    private static final int CONTROL_PORT = 7502;

    @Test
    void carriedConnectionLivesThroughSixtySecondsAndAMoveWhileTheControlDies() throws Exception {
        try (AgentBed bed = AgentBed.create("agent-migrate")) {
            App carried = bed.app("client", StandardTopology.PEER_V4, CARRIED_PORT, 1, AgentBed.impatientStreaming(4096, 20));
            App control = bed.app("client", StandardTopology.PEER_V4, CONTROL_PORT, 1, AgentBed.impatientStreaming(4096, 20));
            Thread.sleep(500);

            bed.order(new HandoffOrder(new Selection(List.of(), List.of(PortRange.of(CARRIED_PORT)), List.of(), List.of(),
                    List.of())));
            bed.awaitPhase(Phase.HANDED_OFF, 1, 20_000);

            long suspended = System.nanoTime();
            bed.net.guestLink().down(); // the VM stops
            PeerEcho carriedPeer = carried.peers.get(0);
            PeerEcho controlPeer = control.peers.get(0);
            for (int s = 0; s < 60; s += 10) {
                Thread.sleep(10_000);
                System.out.printf("suspended %2d s: carried peer sent %d, error %s; control peer error %s%n", s + 10,
                        carriedPeer.sent(), carriedPeer.failure(), controlPeer.failure());
            }

            bed.net.guestLink().up(); // the VM resumes: its link comes up as its port moves to host B,
            long start = System.nanoTime();
            bed.moveToHostB(); // which announces it; its channel now reaches host B, and the agent reclaims
            bed.awaitAllBack(1, 20_000);
            System.out.printf("back on host B %d ms after the reclaim order, %d s after the suspension%n",
                    (System.nanoTime() - start) / 1_000_000, (System.nanoTime() - suspended) / 1_000_000_000);

            assertThat(controlPeer.failure()).as("the control connection, not carried, died").isNotNull();
            assertThat(controlPeer.failure().getMessage()).containsIgnoringCase("timed out");
            assertThat(carriedPeer.failure()).as("the carried connection's peer saw no error").isNull();
            assertThat(bed.agent.reports().get(0).phase()).isEqualTo(Phase.CONFORMED);
            assertThat(bed.heldByHostA()).as("host A released its copy to host B's relay").isZero();
            assertThat(carried.sockets()).as("same descriptors").containsAllEntriesOf(carried.socketsBefore);
            System.out.println("carried " + bed.agent.reports().get(0));
            System.out.println("echoed byte-exact both ways: " + carried.finish(30_000));
        }
    }
}
