package org.tcpferry.tests.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tcpferry.host.config.HostConfig;
import org.tcpferry.protocol.ControlReply;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.rig.StandardTopology;
import org.tcpferry.tests.agent.AgentBed.App;

/**
 * A host manager holds the copy of a guest it learned of at run time (as from libvirt), and is
 * restarted with a config that does not name the guest, as happens to the source of a migration:
 * libvirt there has forgotten the transient domain that left, so neither config nor libvirt knows
 * it at the start. The copy must still be held (the host wrote the domain down when it learned
 * it), and the guest takes its connection back byte-exact, on the same descriptor, with no reset.
 */
@KernelTest
class LearnedDomainRestartTest {

    @Test
    void aCopyOfADomainLearnedAtRunTimeIsHeldAgainAfterARestartThatDoesNotKnowIt() throws Exception {
        try (AgentBed bed = AgentBed.create("learned-restart", true, false, false)) {
            App app = bed.app("client", StandardTopology.PEER_V4, 7967, 1, AgentBed.impatientStreaming(4096, 20));
            Thread.sleep(300);
            HostConfig b = bed.hosts.configB().withDomains(List.of())
                    .withFdKeeper(bed.dir().resolve("keeper-b").resolve("fd-keeper.sock").toString(), "");
            bed.restartHostB(b);
            assertThat(bed.hosts.hostB().addDomain(bed.hosts.configB().domain(AgentBed.DOMAIN))).isTrue();
            bed.moveToHostB();
            boolean restarted = false;
            try {
                ControlReply handoff = bed.control(b, "handoff", Map.of("domain", AgentBed.DOMAIN));
                assertThat(handoff.exitCode()).as(handoff.json()).isZero();
                assertThat(handoff.json()).contains("\"handedOff\":1");

                bed.hosts.stopHostBLeavingCopies();
                Thread.sleep(2_000); // longer than the peer's 3 s patience with the time the start takes
                bed.restartHostB(b);
                restarted = true;
                assertThat(bed.hosts.hostB().status().path("domains").get(0).path("connections"))
                        .as("held again after the restart").hasSize(1)
                        .allSatisfy(c -> assertThat(c.path("state").asText()).isEqualTo("HOLDING"));
                bed.awaitConnected();

                ControlReply reclaim = bed.control(b, "reclaim", Map.of("domain", AgentBed.DOMAIN));
                assertThat(reclaim.exitCode()).as(reclaim.json()).isZero();
                bed.awaitAllBack(1, 30_000);
                bed.assertAllBackAndNothingHeld(app);
            } finally {
                if (!restarted) {
                    bed.restartHostB(b); // adopts what the stop left with the keeper, so that closing drops it
                }
            }
        }
    }
}
