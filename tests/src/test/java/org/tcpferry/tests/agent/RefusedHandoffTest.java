package org.tcpferry.tests.agent;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.tcpferry.agent.core.CarriedReport;
import org.tcpferry.agent.core.Phase;
import org.tcpferry.protocol.ControlReply;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.rig.StandardTopology;
import org.tcpferry.tests.agent.AgentBed.App;

/**
 * A connection the host refuses (its guest address 10.77.0.3 is not one the domain owns: NOT_OWNER)
 * is rolled back at once from the agent's own dump, its flow unblocked and its owner thawed, while
 * the accepted one in the same handoff stays with the host. Both streams end byte-exact.
 */
@KernelTest
class RefusedHandoffTest {
    private static final String UNOWNED_V4 = "10.77.0.3";

    @Test
    void refusedConnectionIsRolledBackAtOnceAndKeepsWorking() throws Exception {
        try (AgentBed bed = AgentBed.create("agent-refused")) {
            bed.guest().exec("ip", "address", "add", UNOWNED_V4 + "/24", "dev", StandardTopology.GUEST_IFNAME);
            AgentBed.PeerSetup peers = AgentBed.impatientStreaming(4096, 20);
            App owned = bed.app("server", StandardTopology.PEER_V4, StandardTopology.GUEST_V4, 7701, 1, peers);
            App unowned = bed.app("server", StandardTopology.PEER_V4, UNOWNED_V4, 7702, 1, peers);
            Thread.sleep(500);

            ControlReply handoff = bed.control("handoff");
            assertThat(handoff.exitCode()).as(handoff.json()).isZero();
            bed.awaitPhase(Phase.HANDED_OFF, 1, 20_000);
            CarriedReport refused = bed.agent.reports().get(0);
            assertThat(refused.phase()).isEqualTo(Phase.ROLLED_BACK);
            assertThat(refused.flow()).startsWith(UNOWNED_V4 + ":7702");

            Thread.sleep(4_000); // longer than the peers' patience: the refused one runs again, the other is held
            assertThat(unowned.peers.get(0).failure()).isNull();
            assertThat(owned.peers.get(0).failure()).isNull();
            assertThat(bed.control("reclaim").exitCode()).isZero();
            bed.awaitAllBack(2, 20_000);
            assertThat(bed.agent.reports().get(1).phase()).isEqualTo(Phase.CONFORMED);
            for (App app : new App[] {owned, unowned}) {
                assertThat(app.sockets()).containsAllEntriesOf(app.socketsBefore);
                System.out.println("echoed byte-exact both ways: " + app.finish(20_000));
            }
        }
    }
}
