package org.tcpferry.tests.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tcpferry.agent.core.CarriedReport;
import org.tcpferry.agent.core.Phase;
import org.tcpferry.protocol.ControlReply;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.rig.StandardTopology;
import org.tcpferry.tests.agent.AgentBed.App;

/**
 * The agent hands a guest's connections to host A and takes them back in place when host A
 * orders a reclaim (the migration was abandoned: the guest stays on host A). The applications are
 * separate processes that know nothing of tcpferry, as clients and as servers (accepted sockets),
 * over IPv4 and IPv6 in the same handoff; the peers give up 3 s after the guest goes silent, and
 * the hold lasts longer than that.
 */
@KernelTest
class HandoffAndReclaimTest {

    @Test
    void clientsAndServersOverBothFamiliesComeBackAfterAHoldLongerThanThePeersPatience() throws Exception {
        try (AgentBed bed = AgentBed.create("agent-abandon")) {
            AgentBed.PeerSetup peers = AgentBed.impatientStreaming(4096, 20);
            List<App> apps = new ArrayList<>();
            apps.add(bed.app("client", StandardTopology.PEER_V4, 7101, 2, peers));
                        apps.add(bed.app("server", StandardTopology.PEER_V4, 7103, 1, peers));
                        Thread.sleep(500);

            long start = System.nanoTime();
            ControlReply handoff = bed.control("handoff"); // tcpferry handoff domain=vm1, through host A
            assertThat(handoff.exitCode()).as(handoff.json()).isZero();
            assertThat(handoff.json()).contains("\"handedOff\":3");
            bed.awaitPhase(Phase.HANDED_OFF, 3, 20_000);
            System.out.printf("handoff of 3 connections: %d ms%n", (System.nanoTime() - start) / 1_000_000);
            assertThat(bed.guest().exec("nft", "list", "table", "inet", "tcpferry_agent").stdout()).contains("flows4");

            Thread.sleep(5_000);
            for (App app : apps) {
                for (PeerEcho p : app.peers) {
                    assertThat(p.failure()).as("peer error during the hold").isNull();
                }
            }

            start = System.nanoTime();
            ControlReply reclaim = bed.control("reclaim");
            assertThat(reclaim.exitCode()).as(reclaim.json()).isZero();
            // The operator's answer names each connection and what it carried.
            assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(reclaim.json()).path("carried"))
                    .hasSize(3).allSatisfy(c -> assertThat(c.path("phase").asText()).isEqualTo("CONFORMED"));
            bed.awaitAllBack(3, 20_000);
            System.out.printf("reclaim of 3 connections: %d ms%n", (System.nanoTime() - start) / 1_000_000);
            for (CarriedReport r : bed.agent.reports()) {
                System.out.println("carried " + r);
                assertThat(r.phase()).isEqualTo(Phase.CONFORMED);
                assertThat(r.bytesFromPeer()).as("bytes the host took from the peer for " + r.flow()).isPositive();
            }
            assertThat(bed.guest().execAllowFailure("nft", "list", "tables").stdout()).doesNotContain("tcpferry_agent");

            Thread.sleep(1_000);
            for (App app : apps) {
                assertThat(app.sockets()).as("the application's descriptors name the same sockets").containsAllEntriesOf(app.socketsBefore);
                for (String digest : app.finish(20_000)) {
                    System.out.println("echoed byte-exact both ways: " + digest);
                }
            }
        }
    }

    @Test
    void ipv4AndIpv6ConnectionsInTheSameHandoff() throws Exception {
        try (AgentBed bed = AgentBed.create("agent-dual")) {
            AgentBed.PeerSetup peers = AgentBed.impatientStreaming(4096, 20);
            List<App> apps = new ArrayList<>();
            apps.add(bed.app("client", StandardTopology.PEER_V4, 7111, 1, peers));
            apps.add(bed.app("client", StandardTopology.PEER_V6, 7112, 1, peers));
            apps.add(bed.app("server", StandardTopology.PEER_V6, 7113, 1, peers));
            Thread.sleep(500);

            ControlReply handoff = bed.control("handoff");
            assertThat(handoff.exitCode()).as(handoff.json()).isZero();
            bed.awaitPhase(Phase.HANDED_OFF, 3, 20_000);
            Thread.sleep(4_000); // longer than the peers' patience
            assertThat(bed.control("reclaim").exitCode()).isZero();
            bed.awaitAllBack(3, 20_000);
            for (CarriedReport r : bed.agent.reports()) {
                assertThat(r.phase()).as(r.flow()).isEqualTo(Phase.CONFORMED);
                assertThat(r.bytesFromPeer()).as(r.flow()).isPositive();
            }
            for (App app : apps) {
                assertThat(app.sockets()).containsAllEntriesOf(app.socketsBefore);
                System.out.println("echoed byte-exact both ways: " + app.finish(20_000));
            }
        }
    }
}
