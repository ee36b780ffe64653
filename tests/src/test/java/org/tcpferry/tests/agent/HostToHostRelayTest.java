package org.tcpferry.tests.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.tcpferry.agent.core.Carried;
import org.tcpferry.agent.core.CrashPoint;
import org.tcpferry.agent.core.Phase;
import org.tcpferry.host.config.PeerAddress;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.rig.StandardTopology;
import org.tcpferry.tests.agent.AgentBed.App;

/**
 * The guest moves from host A to host B while host A holds its copies; the guest's channel now
 * reaches only host B's manager, which relays the agent's releases to host A over the peer
 * endpoint (the holder is named in each token). Every test ends with both streams byte-exact, the
 * application's descriptors unchanged, and nothing held on either host.
 */
@KernelTest
class HostToHostRelayTest {

    @Test
    void reclaimOnHostBIsRelayedToHostAWhichHoldsTheCopies() throws Exception {
        try (AgentBed bed = AgentBed.create("relay")) {
            App v4 = bed.app("client", StandardTopology.PEER_V4, 7961, 1, AgentBed.impatientStreaming(4096, 20));
            App v6 = bed.app("client", StandardTopology.PEER_V6, 7962, 1, AgentBed.impatientStreaming(4096, 20));
            Thread.sleep(300);
            bed.handOffAll(2);
            assertThat(bed.agent.connections()).extracting(Carried::holder).containsOnly(AgentBed.HOSTA);

            bed.net.guestLink().down(); // the VM is stopped for longer than the peers' 3 s timeout
            Thread.sleep(6_000);
            bed.net.guestLink().up();
            long start = System.nanoTime();
            bed.moveToHostB(); // it runs again on host B, whose manager it reaches; the agent reclaims
            bed.awaitAllBack(2, 30_000);
            System.out.printf("back through host B %d ms after the move%n", (System.nanoTime() - start) / 1_000_000);

            bed.assertAllBackAndNothingHeld(v4, v6);
        }
    }

    @Test
    void agentDyingBetweenARelayedGrantAndItsConfirmLeavesHostAHoldingUntilTheNextReclaim() throws Exception {
        try (AgentBed bed = AgentBed.create("relay-crash")) {
            App app = bed.app("client", StandardTopology.PEER_V4, 7963, 2, AgentBed.patientStreaming(4096, 20));
            Thread.sleep(300);
            bed.handOffAll(2);

            bed.agent.simulateCrashAt(CrashPoint.AFTER_FIRST_CONFORM);
            bed.moveToHostB(); // the agent reclaims through host B and dies after its first conform
            AgentBed.await(bed.agent::crashed, 20_000, "the agent to stop after its first conform");
            // Host B saw the agent's channel close with a granted release unconfirmed, and aborted it
            // at host A, which holds both connections again.
            AgentBed.await(() -> bed.heldByHostA() == 2 && holdingStates(bed).stream().allMatch("HOLDING"::equals),
                    20_000, "host A to hold both again (now " + holdingStates(bed) + ")");
            Thread.sleep(2_000);

            bed.restartAgent();
            bed.awaitAllBack(2, 30_000);
            bed.assertAllBackAndNothingHeld(app);
        }
    }

    /**
     * The link from host B to host A is cut (both ends reset, as by a failing switch) after host A
     * granted the relayed releases and the agent conformed the first, before any confirm. Host A
     * sees its requester gone and holds both again; host B opens a new link for the confirm, which
     * host A refuses (its release was aborted), so the agent keeps them HANDED_OFF with the flows
     * blocked. The next reclaim through host B takes both back byte-exact.
     */
    @Test
    void peerLinkCutBetweenARelayedGrantAndItsConfirmLeavesHostAHoldingUntilTheNextReclaim() throws Exception {
        try (AgentBed bed = AgentBed.create("relay-linkcut")) {
            App app = bed.app("client", StandardTopology.PEER_V4, 7965, 2, AgentBed.patientStreaming(4096, 20));
            Thread.sleep(300);
            bed.handOffAll(2);

            String portA = bed.hosts.configA().peer().listen().replaceAll(".*:", "");
            // The agent's threads live in the guest's namespace: the cut runs on a thread started
            // here, in the hosts' namespace, where the links are.
            java.util.concurrent.ExecutorService hostSide = java.util.concurrent.Executors.newSingleThreadExecutor();
            hostSide.submit(() -> null).get();
            bed.agent.faultAt(CrashPoint.AFTER_FIRST_CONFORM, () -> {
                try {
                    hostSide.submit(() -> {
                        cutLinksTo(portA);
                        return null;
                    }).get();
                    AgentBed.await(() -> holdingStates(bed).equals(List.of("HOLDING", "HOLDING")), 20_000,
                            "host A to abort the relayed grants and hold both again (now " + holdingStates(bed) + ")");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            bed.moveToHostB(); // the agent reclaims through host B; the link is cut after its first conform
            AgentBed.await(() -> bed.agent.connections().size() == 2 && bed.agent.connections().stream()
                    .allMatch(c -> c.phase() == Phase.HANDED_OFF && c.error() != null), 30_000,
                    "the agent to keep both HANDED_OFF after the refused confirm");
            hostSide.shutdown();
            System.out.println("after the cut: " + bed.agent.connections().stream().map(Carried::error).toList());
            assertThat(holdingStates(bed)).as("host A holds both again").containsExactly("HOLDING", "HOLDING");
            Thread.sleep(2_000);

            var reclaim = bed.control(bed.hosts.configB(), "reclaim", java.util.Map.of("domain", AgentBed.DOMAIN));
            assertThat(reclaim.exitCode()).as(reclaim.json()).isZero();
            bed.awaitAllBack(2, 30_000);
            bed.assertAllBackAndNothingHeld(app);
        }
    }

    /** Resets every TCP connection to port {@code port} on this machine's loopback (ss -K): the rig's host links only. */
    private static void cutLinksTo(String port) throws Exception {
        Process ss = new ProcessBuilder("ss", "-K", "-tn", "dst", "127.0.0.1", "dport", "=", ":" + port)
                .redirectErrorStream(true).start();
        String out = new String(ss.getInputStream().readAllBytes());
        assertThat(ss.waitFor()).as("ss -K: " + out).isZero();
        assertThat(out).as("a link was cut").contains("ESTAB");
    }

    @Test
    void anUnreachableHolderKeepsHoldingAndTheReclaimSucceedsOnceItIsReachable() throws Exception {
        try (AgentBed bed = AgentBed.create("relay-unreachable")) {
            // A patient peer: once the guest runs on host B the peer's packets go there (the guest
            // announced itself), so host A's copy no longer hears them and only the peer's
            // retransmissions bridge the time until the reclaim succeeds.
            App app = bed.app("client", StandardTopology.PEER_V4, 7964, 1, AgentBed.patientStreaming(4096, 20));
            Thread.sleep(300);
            bed.handOffAll(1);

            // Host B's peers list points at a port where nobody listens: it cannot reach host A.
            bed.restartHostB(bed.hosts.configB().withPeers(List.of(new PeerAddress(AgentBed.HOSTA, "127.0.0.1:1"))));
            bed.moveToHostB();
            AgentBed.await(() -> bed.agent.connections().get(0).error() != null
                    && bed.agent.connections().get(0).error().contains("UNREACHABLE"), 20_000,
                    "the agent to hear that host A is unreachable");
            assertThat(bed.agent.connections().get(0).phase()).isEqualTo(Phase.HANDED_OFF);
            Thread.sleep(5_000);
            assertThat(holdingStates(bed)).as("host A keeps holding what it could not hand back").containsExactly("HOLDING");

            bed.restartHostB(bed.hosts.configB()); // now with host A's real address; the agent reconnects
            bed.awaitAllBack(1, 30_000);
            bed.assertAllBackAndNothingHeld(app);
        }
    }

    @Test
    void aDomainHostBLearnsOfOnlyAfterItsStartIsReclaimedThroughIt() throws Exception {
        try (AgentBed bed = AgentBed.create("relay-late-domain")) {
            App app = bed.app("client", StandardTopology.PEER_V4, 7968, 1, AgentBed.impatientStreaming(4096, 20));
            Thread.sleep(300);
            bed.handOffAll(1);

            // Host B runs but knows no domain, as a migration's destination before libvirt defines it there.
            bed.restartHostB(bed.hosts.configB().withDomains(List.of()));
            org.tcpferry.protocol.ControlReply refused = bed.control(bed.hosts.configB(), "reclaim",
                    java.util.Map.of("domain", AgentBed.DOMAIN));
            assertThat(refused.exitCode()).isEqualTo(2);
            assertThat(refused.json()).contains("unknown domain " + AgentBed.DOMAIN).contains("libvirt discovery is off");

            // What discovery does when libvirt reports the domain (DEFINED, STARTED or RESUMED): the
            // domain's holds and its guest channel appear in the running host manager.
            org.tcpferry.host.config.DomainConfig arrived = bed.hosts.configB().domain(AgentBed.DOMAIN);
            assertThat(bed.hosts.hostB().addDomain(arrived)).isTrue();
            assertThat(bed.hosts.hostB().addDomain(arrived)).as("a known domain is not added twice").isFalse();
            assertThat(bed.hosts.hostB().status().path("domains").findValuesAsText("name")).contains(AgentBed.DOMAIN);

            bed.moveToHostB(); // the guest runs on host B, which now reaches its agent and relays the releases
            bed.awaitAllBack(1, 30_000);
            bed.assertAllBackAndNothingHeld(app);
        }
    }

    private static List<String> holdingStates(AgentBed bed) {
        List<String> states = new java.util.ArrayList<>();
        bed.hostA.status().path("domains").get(0).path("connections").forEach(c -> states.add(c.path("state").asText()));
        return states;
    }
}
