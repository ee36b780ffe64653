package org.tcpferry.tests.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import org.junit.jupiter.api.Test;
import org.tcpferry.protocol.ControlReply;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.rig.StandardTopology;
import org.tcpferry.tests.agent.AgentBed.App;

/**
 * {@code bin/tcpferry-agent run} as its own process, as in a guest: host A connects to it and hands
 * off two connections; the agent is killed with SIGKILL while host A holds them, and a new agent
 * process on the same journal takes them back as soon as host A reconnects. The application's
 * streams come through byte-exact.
 */
@KernelTest
class AgentProcessTest {

    @Test
    void agentKilledWhileTheHostHoldsTheConnectionsTakesThemBackAfterARestart() throws Exception {
        try (AgentBed bed = AgentBed.create("agent-process", false)) {
            App app = bed.app("client", StandardTopology.PEER_V4, 7901, 2, AgentBed.impatientStreaming(4096, 20));
            Thread.sleep(500);

            ControlReply handoff = bed.control("handoff");
            assertThat(handoff.exitCode()).as(handoff.json()).isZero();
            assertThat(handoff.json()).contains("\"handedOff\":2");
            assertThat(bed.heldByHostA()).isEqualTo(2);

            bed.killAgent();
            Thread.sleep(4_000); // longer than the peers' patience: host A holds them meanwhile
            long start = System.nanoTime();
            bed.spawnAgent();
            AgentBed.await(() -> bed.heldByHostA() == 0, 30_000, "the restarted agent to take both connections back");
            System.out.printf("restarted agent process took 2 connections back %d ms after its start%n",
                    (System.nanoTime() - start) / 1_000_000);
            AgentBed.await(() -> bed.guest().execAllowFailure("nft", "list", "tables").stdout().isEmpty(), 10_000,
                    "the agent's table to go");
            assertThat(app.sockets()).containsAllEntriesOf(app.socketsBefore);
            System.out.println("echoed byte-exact both ways: " + app.finish(20_000));
            assertThat(Files.readString(bed.dir.resolve("agent.log"))).contains("event=recovering").contains("event=reclaim_done conformed=2");
        }
    }
}
