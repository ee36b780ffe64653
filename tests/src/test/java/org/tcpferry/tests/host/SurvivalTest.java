package org.tcpferry.tests.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tcpferry.rig.StandardTopology.PEER_V4;

import org.junit.jupiter.api.Test;
import org.tcpferry.protocol.HandoffAccepted;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.sys.Errno;
import org.tcpferry.tests.host.HostTestBed.Conn;
import org.tcpferry.tests.host.HostTestBed.PeerTuning;

/**
 * The reason tcpferry exists: a peer with TCP_USER_TIMEOUT 3 s and keepalive 1/1/2 that streams
 * continuously dies within seconds when the guest goes silent, and survives a 60 s hold when the
 * host holds a copy.
 */
@KernelTest
class SurvivalTest {

    @Test
    void withoutACopyTheImpatientPeerDiesWithinSeconds() throws Exception {
        try (HostTestBed bed = HostTestBed.create("host control run")) {
            Conn conn = bed.connect(PEER_V4, 7020, PeerTuning.IMPATIENT).streaming(5);
            Thread.sleep(200);
            bed.capture(conn); // the guest goes silent and nobody takes over
            long silentSince = System.nanoTime();
            long deadline = System.currentTimeMillis() + 15_000;
            while (conn.stream.failure() == null && System.currentTimeMillis() < deadline) {
                Thread.sleep(50);
            }
            assertThat(conn.stream.failure()).as("peer gave up").isNotNull();
            assertThat(conn.stream.failure().errno()).isEqualTo(Errno.ETIMEDOUT);
            double seconds = (conn.stream.failedAtNanos() - silentSince) / 1e9;
            System.out.printf("control run: peer died %.1f s after the guest went silent%n", seconds);
            assertThat(seconds).isLessThan(10);
        }
    }

    @Test
    void aCopyKeepsTheImpatientStreamingPeerAliveForSixtySeconds() throws Exception {
        try (HostTestBed bed = HostTestBed.create("host 60 s hold")) {
            // About 0.8 MB/s: 60 s of it stays below the 64 MiB connection quota, so the window never
            // closes (a closed window would end this peer too: zero-window probing obeys its user timeout).
            Conn conn = bed.connect(PEER_V4, 7021, PeerTuning.IMPATIENT).streaming(20);
            Thread.sleep(200);
            HandoffAccepted accepted = Holds.handoff(bed, bed.capture(conn));
            long sentAtHandoff = conn.stream.sent();
            for (int i = 0; i < 12; i++) {
                Thread.sleep(5000);
                assertThat(conn.stream.failure()).as("peer after %d s of hold", (i + 1) * 5).isNull();
            }
            long spooled = Holds.held(bed, accepted.flow()).path("bytesFromPeer").asLong();
            assertThat(conn.stream.sent()).isGreaterThan(sentAtHandoff);
            System.out.printf("60 s hold: peer alive, %d bytes spooled%n", spooled);
            HoldBehaviourTest.handBackAndCompare(bed, conn, accepted);
        }
    }
}
