package org.tcpferry.tests.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tcpferry.agent.core.Phase;
import org.tcpferry.host.config.PeerConfig;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.rig.StandardTopology;
import org.tcpferry.testsupport.TestCertificates;
import org.tcpferry.tests.agent.AgentBed.App;

/**
 * The relay between host managers over mutual TLS, as in production: host B's link to host A
 * presents B's certificate and checks A's (chain to the CA, and A's name for the address it dialled).
 * A host B with a certificate from another CA is refused by host A: the agent hears UNREACHABLE and
 * host A keeps holding; once host B has a certificate host A trusts, the reclaim goes through.
 */
@KernelTest
class RelayOverMutualTlsTest {
    @TempDir
    Path certs;

    @Test
    void aHostWithAnUntrustedCertificateIsRefusedAndATrustedOneIsRelayed() throws Exception {
        TestCertificates pki = new TestCertificates(certs).ca("ca").ca("rogue-ca").leaf(AgentBed.HOSTA, "ca")
                .leaf(AgentBed.HOSTB, "ca").leaf("rogue", "rogue-ca");
        try (AgentBed bed = AgentBed.create("relay-tls", true, node -> new PeerConfig("", pki.file(node + ".pem"),
                pki.file(node + ".key"), pki.file("ca.pem"), false))) {
            App app = bed.app("client", StandardTopology.PEER_V4, 7981, 1, AgentBed.patientStreaming(4096, 20));
            Thread.sleep(300);
            bed.handOffAll(1);

            PeerConfig good = bed.hosts.configB().peer();
            PeerConfig rogue = new PeerConfig(good.listen(), pki.file("rogue.pem"), pki.file("rogue.key"),
                    good.trust(), false);
            bed.restartHostB(bed.hosts.configB().withPeer(rogue));
            bed.moveToHostB();
            AgentBed.await(() -> bed.agent.connections().get(0).error() != null
                    && bed.agent.connections().get(0).error().contains("UNREACHABLE"), 30_000,
                    "the agent to hear that host A refused host B's certificate");
            assertThat(bed.agent.connections().get(0).phase()).isEqualTo(Phase.HANDED_OFF);
            assertThat(bed.heldByHostA()).as("host A keeps holding").isEqualTo(1);

            bed.restartHostB(bed.hosts.configB());
            bed.awaitAllBack(1, 30_000);
            bed.assertAllBackAndNothingHeld(app);
        }
        assertThat(Files.exists(certs.resolve("ca.pem"))).isTrue();
    }
}
