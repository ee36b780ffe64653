package org.tcpferry.tests.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tcpferry.rig.StandardTopology.PEER_V4;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.tcpferry.protocol.FlowKey;
import org.tcpferry.protocol.HandoffAccepted;
import org.tcpferry.protocol.HandoffRequest;
import org.tcpferry.protocol.Message;
import org.tcpferry.protocol.ReleaseConfirm;
import org.tcpferry.protocol.ReleaseGranted;
import org.tcpferry.protocol.ReleaseRequest;
import org.tcpferry.repair.ConnectionState;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.sys.LibC;
import org.tcpferry.tests.host.HostTestBed.Conn;

/**
 * 1 and then 1000 connections handed off at once (as an agent pipelines its HandoffRequests),
 * held while every peer sends, released, handed back and checked byte for byte. Prints the
 * latencies the report quotes.
 */
@KernelTest
class ScaleTest {
    private static final int COUNT = 1000;
    private static final int BYTES_EACH = 1000;

    @Test
    void oneAndThenAThousandConnectionsInOneHandoff() throws Exception {
        try (HostTestBed bed = HostTestBed.create("host scale")) {
            round(bed, bed.connectMany(PEER_V4, 7010, 1), 1);
            round(bed, bed.connectMany(PEER_V4, 7011, COUNT), COUNT);
            round(bed, bed.connectMany(PEER_V4, 7012, 1), 1); // warm: classes loaded, chain made
        }
    }

    private void round(HostTestBed bed, List<Conn> conns, int n) throws Exception {
        assertThat(conns).hasSize(n);
        List<ConnectionState> states = bed.capture(conns);

        long start = System.nanoTime();
        List<CompletableFuture<Message>> replies = new ArrayList<>();
        for (ConnectionState state : states) {
            replies.add(bed.host().handoffs().handoff(new HandoffRequest(HostTestBed.DOMAIN, state)));
        }
        CompletableFuture.allOf(replies.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
        long handoffNanos = System.nanoTime() - start;
        Map<FlowKey, HandoffAccepted> accepted = new HashMap<>();
        for (CompletableFuture<Message> reply : replies) {
            assertThat(reply.get()).isInstanceOf(HandoffAccepted.class);
            HandoffAccepted a = (HandoffAccepted) reply.get();
            accepted.put(a.flow(), a);
        }
        assertThat(Holds.held(bed)).hasSize(n);

        byte[] payload = new byte[BYTES_EACH];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = PeerStream.byteAt(i);
        }
        for (Conn c : conns) {
            assertThat(c.peer.send(payload, payload.length, LibC.MSG_NOSIGNAL)).isEqualTo(BYTES_EACH);
        }
        long deadline = System.currentTimeMillis() + 20_000;
        while (Holds.held(bed).stream().anyMatch(e -> e.path("bytesFromPeer").asLong() < BYTES_EACH)
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertThat(Holds.held(bed)).allMatch(e -> e.path("bytesFromPeer").asLong() == BYTES_EACH);

        start = System.nanoTime();
        List<CompletableFuture<Message>> grants = new ArrayList<>();
        for (Conn c : conns) {
            HandoffAccepted a = accepted.get(new FlowKey(c.local, c.remote));
            grants.add(bed.host().handoffs().release(new ReleaseRequest(a.flow(), a.token()), this));
        }
        CompletableFuture.allOf(grants.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
        long releaseNanos = System.nanoTime() - start;
        List<ConnectionState> finals = new ArrayList<>();
        for (CompletableFuture<Message> grant : grants) {
            assertThat(grant.get()).isInstanceOf(ReleaseGranted.class);
            ConnectionState f = ((ReleaseGranted) grant.get()).finalState();
            assertThat(f.received()).isEqualTo(payload);
            finals.add(f);
        }
        bed.handBack(conns, finals);
        for (Conn c : conns) {
            HandoffAccepted a = accepted.get(new FlowKey(c.local, c.remote));
            bed.host().handoffs().confirm(new ReleaseConfirm(a.flow(), a.token())).get(10, TimeUnit.SECONDS);
        }
        assertThat(Holds.held(bed)).isEmpty();
        for (Conn c : conns) {
            byte[] got = new byte[BYTES_EACH];
            int n2 = c.guest.recv(got, got.length, 0x100 /* MSG_WAITALL */);
            assertThat(n2).isEqualTo(BYTES_EACH);
            assertThat(got).isEqualTo(payload);
        }
        System.out.printf("LATENCY connections=%d handoff_ms=%.1f release_ms=%.1f (per connection: %.3f / %.3f ms)%n",
                n, handoffNanos / 1e6, releaseNanos / 1e6, handoffNanos / 1e6 / n, releaseNanos / 1e6 / n);
    }

}
