package org.tcpferry.tests.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tcpferry.agent.core.Carried;
import org.tcpferry.agent.core.Phase;
import org.tcpferry.host.HostManager;
import org.tcpferry.protocol.ControlReply;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.rig.StandardTopology;
import org.tcpferry.tests.agent.AgentBed.App;

/**
 * Copies placed on another host than the guest's ({@code handoff holdOn=NODE}, as {@code tcpferry
 * migrate --hold-on target} does): host A relays the agent's HandoffRequests to host B, which holds
 * the copies and announces the guest's MAC so the peer's packets come to it. The peer gives up 3 s
 * after its packets go unanswered, so the copies on host B must really be the ones answering.
 */
@KernelTest
class HoldOnAnotherHostTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void copiesHeldOnTheDestinationKeepThePeerAliveAndAreReclaimedThereAfterTheMove() throws Exception {
        try (AgentBed bed = AgentBed.create("holdon-target")) {
            bed.startHostB();
            App app = bed.app("client", StandardTopology.PEER_V4, 7971, 2, AgentBed.impatientStreaming(4096, 20));
            Thread.sleep(300);

            handOffToHostB(bed, 2);
            bed.net.guestLink().down(); // the guest is paused on host A while it migrates
            long sentBefore = app.peers.get(0).sent();
            Thread.sleep(8_000);
            assertThat(app.peers).allSatisfy(p -> assertThat(p.failure()).as("peer error during the hold").isNull());
            assertThat(app.peers.get(0).sent()).as("the peer kept sending to host B's copy").isGreaterThan(sentBefore);
            assertThat(bytesFromPeer(bed.hostB)).as("host B's copies read what the peer sent").isPositive();

            bed.net.guestLink().up();
            bed.moveToHostB(); // the guest runs on host B, which holds its copies: a local reclaim
            bed.awaitAllBack(2, 30_000);
            bed.assertAllBackAndNothingHeld(app);
        }
    }

    @Test
    void aMigrationThatFailsGetsTheCopiesBackFromTheDestinationThroughTheSource() throws Exception {
        try (AgentBed bed = AgentBed.create("holdon-rollback")) {
            bed.startHostB();
            App app = bed.app("client", StandardTopology.PEER_V4, 7972, 1, AgentBed.impatientStreaming(4096, 20));
            Thread.sleep(300);

            handOffToHostB(bed, 1);
            Thread.sleep(5_000); // the migration runs, then fails: the guest never leaves host A
            ControlReply reclaim = bed.control(bed.hostConfig, "reclaim", Map.of("domain", AgentBed.DOMAIN));
            assertThat(reclaim.exitCode()).as(reclaim.json()).isZero();
            bed.awaitAllBack(1, 30_000);
            bed.assertAllBackAndNothingHeld(app);
        }
    }

    private static void handOffToHostB(AgentBed bed, int connections) throws Exception {
        ControlReply reply = bed.control(bed.hostConfig, "handoff", Map.of("domain", AgentBed.DOMAIN, "holdOn",
                AgentBed.HOSTB));
        assertThat(reply.exitCode()).as(reply.json()).isZero();
        assertThat(JSON.readTree(reply.json()).path("holder").asText()).isEqualTo(AgentBed.HOSTB);
        bed.awaitPhase(Phase.HANDED_OFF, connections, 20_000);
        assertThat(bed.agent.connections()).extracting(Carried::holder).containsOnly(AgentBed.HOSTB);
        assertThat(AgentBed.held(bed.hostB)).as("held by host B").isEqualTo(connections);
        assertThat(bed.heldByHostA()).as("held by host A").isZero();
    }

    private static long bytesFromPeer(HostManager host) {
        long total = 0;
        for (JsonNode c : host.status().path("domains").get(0).path("connections")) {
            total += c.path("bytesFromPeer").asLong();
        }
        return total;
    }
}
