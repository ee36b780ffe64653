package org.tcpferry.tests.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tcpferry.rig.StandardTopology.PEER_V4;

import com.fasterxml.jackson.databind.JsonNode;
import org.tcpferry.protocol.ControlReply;
import org.tcpferry.tests.agent.AgentBed;
import org.tcpferry.tests.agent.AgentBed.App;
import org.tcpferry.tests.host.HostLeftovers;

/**
 * The steps the tests of a host manager run as a process ({@code AgentBed.create(.., true, true, false)})
 * share: two connections handed off, taken back byte-exact, and a final stop that leaves nothing.
 */
final class HostdSteps {
    private HostdSteps() {
    }

    interface Scenario {
        void run(AgentBed bed) throws Exception;
    }

    /** Runs {@code scenario} on a fresh bed named {@code purpose}; on failure prints the daemon's log. */
    static void withHostd(String purpose, Scenario scenario) throws Exception {
        try (AgentBed bed = AgentBed.create(purpose, true, true, false)) {
            try {
                scenario.run(bed);
            } catch (Exception | AssertionError e) {
                System.out.println("hostd log:\n" + bed.hostd().tail());
                throw e;
            }
        }
    }

    /** A guest application with two connections to a peer on {@code port}, both handed off to host A. */
    static App handOffTwo(AgentBed bed, int port, AgentBed.PeerSetup peer) throws Exception {
        App app = bed.app("client", PEER_V4, port, 2, peer);
        Thread.sleep(500);
        ControlReply handoff = bed.control("handoff");
        assertThat(handoff.exitCode()).as(handoff.json()).isZero();
        assertThat(handoff.json()).contains("\"handedOff\":2");
        assertThat(bed.heldByHostA()).isEqualTo(2);
        return app;
    }

    /**
     * Starts the daemon again and checks that it adopted both connections from the same fd keeper
     * ({@code keeper}), with at least the {@code spooledBefore} bytes it had spooled before.
     */
    static void restartAdoptingBoth(AgentBed bed, long keeper, long spooledBefore) throws Exception {
        long start = System.nanoTime();
        bed.hostd().start();
        System.out.printf("hostd restarted and adopted in %d ms%n", (System.nanoTime() - start) / 1_000_000);
        assertThat(bed.hostd().keeper().orElseThrow().pid()).as("the same keeper").isEqualTo(keeper);
        JsonNode status = assertHoldingTwo(bed);
        assertThat(spooled(status)).as("spool kept across the restart").isGreaterThanOrEqualTo(spooledBefore);
    }

    /** The restarted daemon holds both connections. */
    static JsonNode assertHoldingTwo(AgentBed bed) throws Exception {
        JsonNode status = bed.hostd().status();
        assertThat(status.path("domains").get(0).path("connections")).hasSize(2)
                .allSatisfy(c -> assertThat(c.path("state").asText()).isEqualTo("HOLDING"));
        return status;
    }

    /** The agent takes both back: same descriptors, no peer error, both streams byte-exact. */
    static void reclaimBothByteExact(AgentBed bed, App app) throws Exception {
        bed.awaitConnected();
        ControlReply reclaim = bed.control("reclaim");
        assertThat(reclaim.exitCode()).as(reclaim.json()).isZero();
        AgentBed.await(() -> bed.heldByHostA() == 0, 30_000, "the agent to take both connections back");
        assertThat(app.sockets()).as("the application's descriptors").containsAllEntriesOf(app.socketsBefore);
        System.out.println("echoed byte-exact both ways: " + app.finish(30_000));
    }

    /** SIGTERM with nothing held: exit 0, nothing left in host A, and the fd keeper exits. */
    static void stopLeavesNothing(AgentBed bed) throws Exception {
        assertThat(bed.hostd().stop()).as("hostd exit code").isZero();
        HostLeftovers.assertNone(bed.net().hostA(), bed.dir().resolve("spool"));
        assertThat(bed.hostd().awaitKeeperExit(10_000)).as("the fd keeper exits").isEmpty();
    }

    static long spooled(JsonNode status) {
        return status.path("domains").get(0).path("spooledBytes").asLong();
    }
}
