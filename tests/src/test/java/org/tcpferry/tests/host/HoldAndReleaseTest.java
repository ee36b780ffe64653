package org.tcpferry.tests.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tcpferry.rig.StandardTopology.PEER_V4;
import static org.tcpferry.rig.StandardTopology.PEER_V6;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.tcpferry.protocol.ErrorCode;
import org.tcpferry.protocol.ErrorReply;
import org.tcpferry.protocol.FlowKey;
import org.tcpferry.protocol.HandoffAccepted;
import org.tcpferry.protocol.HandoffRequest;
import org.tcpferry.protocol.Message;
import org.tcpferry.protocol.ReleaseConfirm;
import org.tcpferry.protocol.ReleaseGranted;
import org.tcpferry.protocol.ReleaseRequest;
import org.tcpferry.repair.ConnectionState;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.tests.host.HostTestBed.Conn;
import org.tcpferry.tests.host.HostTestBed.PeerTuning;

/** A held connection keeps the peer streaming and hands every byte back, over IPv4 and IPv6. */
@KernelTest
class HoldAndReleaseTest {

    @Test
    void releaseReturnsEveryBytePeerSentIpv4() throws Exception {
        holdAndRelease(PEER_V4, 3000);
    }

    @Test
    void releaseReturnsEveryBytePeerSentIpv6() throws Exception {
        holdAndRelease(PEER_V6, 2000);
    }

    /**
     * The guest asked for the flow, got it, and went silent without a confirm and without the host
     * seeing its channel close (virtio-serial does not show the guest side leaving). The next
     * release with the right token is granted the same final state, and its confirm ends the hold:
     * nothing stays RELEASING, every byte arrives.
     */
    @Test
    void aReleaseWhoseRequesterWentSilentIsGrantedAgainToTheNextRequest() throws Exception {
        try (HostTestBed bed = HostTestBed.create("host regrant")) {
            Conn conn = bed.connect(PEER_V4, 7003, PeerTuning.IMPATIENT).streaming(5);
            Thread.sleep(300);
            ConnectionState state = bed.capture(conn);
            HandoffAccepted accepted = Holds.handoff(bed, state);
            Thread.sleep(1_000);

            Object silentRequester = new Object();
            ReleaseGranted first = Holds.release(bed, accepted, silentRequester);
            assertThat(Holds.held(bed, accepted.flow()).path("state").asText()).isEqualTo("RELEASING");
            ReleaseGranted again = Holds.release(bed, accepted, this);
            assertThat(again.finalState()).as("the same final state, granted again").isEqualTo(first.finalState());

            bed.handBack(conn, again.finalState());
            Holds.confirm(bed, accepted);
            bed.host().handoffs().requesterGone(silentRequester).get(10, TimeUnit.SECONDS); // too late to matter
            assertThat(Holds.held(bed)).as("nothing held").isEmpty();

            Thread.sleep(300);
            String sent = conn.stream.finish();
            assertThat(conn.reader.awaitEof(10_000)).as("SHA-256 of the stream, guest vs peer").isEqualTo(sent);
            assertThat(conn.stream.failure()).isNull();
        }
    }

    private void holdAndRelease(String peerIp, long holdMillis) throws Exception {
        try (HostTestBed bed = HostTestBed.create("host hold " + peerIp)) {
            Conn conn = bed.connect(peerIp, 7001, PeerTuning.IMPATIENT).streaming(5);
            Thread.sleep(300);
            ConnectionState state = bed.capture(conn);

            Message reply = bed.host().handoffs().handoff(new HandoffRequest(HostTestBed.DOMAIN, state)).get(10, TimeUnit.SECONDS);
            assertThat(reply).isInstanceOf(HandoffAccepted.class);
            HandoffAccepted accepted = (HandoffAccepted) reply;
            long sentAtHandoff = conn.stream.sent();

            Thread.sleep(holdMillis);
            JsonNode held = bed.host().status().path("domains").get(0).path("connections").get(0);
            assertThat(held.path("state").asText()).isEqualTo("HOLDING");
            assertThat(held.path("peer").asText()).isEqualTo("OPEN");
            assertThat(held.path("window").asText()).isEqualTo("open");
            assertThat(held.path("bytesFromPeer").asLong()).isPositive();
            assertThat(conn.stream.failure()).as("peer error during the hold").isNull();
            assertThat(conn.stream.sent()).as("peer kept sending").isGreaterThan(sentAtHandoff);

            FlowKey flow = FlowKey.of(state);
            long releaseStart = System.nanoTime();
            Message granted = bed.host().handoffs().release(new ReleaseRequest(flow, accepted.token()), this)
                    .get(10, TimeUnit.SECONDS);
            assertThat(granted).isInstanceOf(ReleaseGranted.class);
            ConnectionState finalState = ((ReleaseGranted) granted).finalState();
            assertThat(finalState.received().length).isGreaterThanOrEqualTo((int) held.path("bytesFromPeer").asLong());
            long released = System.nanoTime();
            bed.handBack(conn, finalState);
            System.out.printf("release %d ms, conform in place of %d received bytes %d ms%n",
                    (released - releaseStart) / 1_000_000, finalState.received().length,
                    (System.nanoTime() - released) / 1_000_000);
            assertThat(bed.host().handoffs().confirm(new ReleaseConfirm(flow, accepted.token())).get(10, TimeUnit.SECONDS))
                    .isNotInstanceOf(ErrorReply.class);
            assertThat(bed.host().status().path("domains").get(0).path("connections").size()).isZero();

            Thread.sleep(300);
            String sent = conn.stream.finish();
            String received = conn.reader.awaitEof(10_000);
            assertThat(conn.reader.received()).isEqualTo(conn.stream.sent());
            assertThat(received).as("SHA-256 of the stream, guest vs peer").isEqualTo(sent);
            System.out.printf("held %s for %d ms: %d bytes end to end, %d spooled by the host%n",
                    flow, holdMillis, conn.stream.sent(), held.path("bytesFromPeer").asLong());
        }
    }

    static ErrorCode code(Message reply) {
        return reply instanceof ErrorReply e ? e.code() : null;
    }
}
