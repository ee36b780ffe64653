package org.tcpferry.tests.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tcpferry.rig.StandardTopology.PEER_V4;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.tcpferry.host.config.QuotaConfig;
import org.tcpferry.protocol.ErrorCode;
import org.tcpferry.protocol.ErrorReply;
import org.tcpferry.protocol.HandoffAccepted;
import org.tcpferry.protocol.HandoffRequest;
import org.tcpferry.protocol.Message;
import org.tcpferry.repair.ConnectionState;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.tests.host.HostTestBed.Conn;

/**
 * A guest that floods the host: more handoffs than its rate, its concurrency or its spool quota
 * allow. Each one beyond the limit is refused with its own error code, logged and counted in the
 * metrics, and what the host already holds is untouched. Refused connections go back to the guest
 * from its own dump, as the agent's rollback does.
 */
@KernelTest
class HandoffFloodTest {
    private static final int FLOOD = 10;

    @Test
    void handoffsBeyondTheDomainsRateAreRefusedAndCounted() throws Exception {
        QuotaConfig limited = new QuotaConfig(null, null, null, null, null, 1L, 3L, null);
        try (HostTestBed bed = HostTestBed.create("host flood rate", limited, "", "connect")) {
            List<Conn> conns = bed.connectMany(PEER_V4, 7060, FLOOD);
            List<ConnectionState> states = bed.capture(conns);
            long start = System.nanoTime();
            List<Message> replies = new ArrayList<>();
            for (ConnectionState state : states) {
                replies.add(handoff(bed, state).get(30, TimeUnit.SECONDS));
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            long accepted = replies.stream().filter(HandoffAccepted.class::isInstance).count();
            System.out.printf("rate 1/s, burst 3: %d of %d accepted in %.2f s%n", accepted, FLOOD, seconds);
            assertThat(accepted).isBetween(3L, 3L + (long) Math.ceil(seconds));
            assertRefusedAsRateLimited(replies);
            assertThat(metrics(bed)).contains("tcpferry_refusals_total{code=\"RATE_LIMITED\"} " + (FLOOD - accepted));
            giveBack(bed, conns, states, replies);
        }
    }

    @Test
    void handoffsBeyondTheConcurrencyLimitAreRefused() throws Exception {
        QuotaConfig oneAtATime = new QuotaConfig(null, null, null, null, null, null, null, 1L);
        try (HostTestBed bed = HostTestBed.create("host flood concurrency", oneAtATime, "", "connect")) {
            List<Conn> conns = bed.connectMany(PEER_V4, 7061, FLOOD);
            List<ConnectionState> states = bed.capture(conns);
            // All sent before any is answered, as an agent pipelines them: the first one's copy
            // is still being restored (nft alone takes milliseconds) when the rest arrive.
            List<CompletableFuture<Message>> pending = new ArrayList<>();
            for (ConnectionState state : states) {
                pending.add(handoff(bed, state));
            }
            List<Message> replies = new ArrayList<>();
            for (CompletableFuture<Message> reply : pending) {
                replies.add(reply.get(30, TimeUnit.SECONDS));
            }
            assertThat(replies.get(0)).isInstanceOf(HandoffAccepted.class);
            assertRefusedAsRateLimited(replies);
            assertThat(replies).anySatisfy(r -> assertThat(r).isInstanceOfSatisfying(ErrorReply.class,
                    e -> assertThat(e.message()).contains("under way")));
            giveBack(bed, conns, states, replies);
        }
    }

    @Test
    void handoffWhenTheDomainsSpoolIsFullIsRefusedAndTheHoldGoesOn() throws Exception {
        QuotaConfig tiny = new QuotaConfig(256L * 1024, 256L * 1024, 64L * 1024, null);
        try (HostTestBed bed = HostTestBed.create("host flood spool", tiny, "", "connect")) {
            Conn first = bed.connect(PEER_V4, 7062, HostTestBed.PeerTuning.NONE).streaming(0);
            Thread.sleep(200);
            HandoffAccepted held = Holds.handoff(bed, bed.capture(first));
            Holds.awaitStatus(bed, held.flow(), c -> c.path("window").asText().equals("closed: quota"), 20_000);

            Conn second = bed.connect(PEER_V4, 7062, HostTestBed.PeerTuning.NONE);
            ConnectionState secondState = bed.capture(second);
            Message refused = handoff(bed, secondState).get(30, TimeUnit.SECONDS);
            assertThat(refused).isInstanceOfSatisfying(ErrorReply.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.QUOTA_FULL));
            assertThat(metrics(bed)).contains("tcpferry_refusals_total{code=\"QUOTA_FULL\"} 1");
            assertThat(Holds.held(bed)).hasSize(1);
            assertThat(Holds.held(bed, held.flow()).path("state").asText()).isEqualTo("HOLDING");
            bed.handBack(second, secondState); // the agent's rollback

            HoldBehaviourTest.handBackAndCompare(bed, first, held);
        }
    }

    private static CompletableFuture<Message> handoff(HostTestBed bed, ConnectionState state) {
        return bed.host().handoffs().handoff(new HandoffRequest(HostTestBed.DOMAIN, state));
    }

    private static void assertRefusedAsRateLimited(List<Message> replies) {
        assertThat(replies).filteredOn(r -> !(r instanceof HandoffAccepted)).isNotEmpty()
                .allSatisfy(r -> assertThat(r).isInstanceOfSatisfying(ErrorReply.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.RATE_LIMITED)));
    }

    /** Accepted ones are released and conformed; refused ones go back to their own dump. */
    private static void giveBack(HostTestBed bed, List<Conn> conns, List<ConnectionState> states, List<Message> replies)
            throws Exception {
        for (int i = 0; i < conns.size(); i++) {
            if (replies.get(i) instanceof HandoffAccepted accepted) {
                assertThat(Holds.held(bed, accepted.flow()).path("state").asText()).isEqualTo("HOLDING");
                bed.handBack(conns.get(i), Holds.release(bed, accepted, conns.get(i)).finalState());
                Holds.confirm(bed, accepted);
            } else {
                bed.handBack(conns.get(i), states.get(i));
            }
        }
        assertThat(Holds.held(bed)).isEmpty();
    }

    private static String metrics(HostTestBed bed) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                "http://127.0.0.1:" + bed.host().metricsAddress().getPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }
}
