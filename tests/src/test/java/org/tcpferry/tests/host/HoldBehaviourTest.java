package org.tcpferry.tests.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tcpferry.rig.StandardTopology.PEER_V4;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.tcpferry.host.config.QuotaConfig;
import org.tcpferry.protocol.Ack;
import org.tcpferry.protocol.ErrorCode;
import org.tcpferry.protocol.ErrorReply;
import org.tcpferry.protocol.HandoffAccepted;
import org.tcpferry.protocol.HandoffRequest;
import org.tcpferry.protocol.Message;
import org.tcpferry.protocol.ReleaseAbort;
import org.tcpferry.protocol.ReleaseGranted;
import org.tcpferry.protocol.ReleaseRequest;
import org.tcpferry.repair.ConnectionState;
import org.tcpferry.repair.TcpRepair;
import org.tcpferry.repair.TcpState;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.sys.LibC;
import org.tcpferry.tests.host.HostTestBed.Conn;
import org.tcpferry.tests.host.HostTestBed.PeerTuning;

/** Refusals, quota, peer FIN and RST, abort: what a held connection does besides being held. */
@KernelTest
class HoldBehaviourTest {

    @Test
    void addressTheDomainDoesNotOwnIsRefusedAndNothingIsSteered() throws Exception {
        try (HostTestBed bed = HostTestBed.create("host not owner")) {
            Conn conn = bed.connect(PEER_V4, 7002, PeerTuning.NONE);
            ConnectionState real = bed.topology().guest().netns().call(() -> {
                ConnectionState s = TcpRepair.dump(conn.guest);
                TcpRepair.resume(conn.guest); // only wanted the numbers; the guest keeps its connection
                return s;
            });
            ConnectionState foreign = new ConnectionState(new InetSocketAddress("10.77.0.99", real.local().getPort()),
                    real.remote(), real.state(), real.writeSeq(), real.unacked(), real.unsent(), real.rcvNxt(),
                    real.received(), real.mssClamp(), real.windowScaling(), real.sndWscale(), real.rcvWscale(),
                    real.sackPermitted(), real.timestamps(), real.tsVal(), real.window(), real.options());

            Message reply = bed.host().handoffs().handoff(new HandoffRequest(HostTestBed.DOMAIN, foreign))
                    .get(10, TimeUnit.SECONDS);

            assertThat(reply).isInstanceOf(ErrorReply.class);
            assertThat(((ErrorReply) reply).code()).isEqualTo(ErrorCode.NOT_OWNER);
            assertThat(Holds.held(bed)).isEmpty();
            String ruleset = bed.topology().hostA().exec("nft", "list", "table", "bridge", "tcpferry").stdout();
            assertThat(ruleset).doesNotContain("10.77.0.99").doesNotContain("elements");
            assertThat(bed.topology().hostA().exec("ss", "-tanH").stdout().strip()).as("no copy made").isEmpty();
            Message unknown = bed.host().handoffs().handoff(new HandoffRequest("no-such-vm", real)).get(10, TimeUnit.SECONDS);
            assertThat(((ErrorReply) unknown).code()).isEqualTo(ErrorCode.UNKNOWN_DOMAIN);
        }
    }

    @Test
    void wrongTokenIsRefusedAndTheCopyKeepsHolding() throws Exception {
        try (HostTestBed bed = HostTestBed.create("host bad token")) {
            Conn conn = bed.connect(PEER_V4, 7003, PeerTuning.IMPATIENT).streaming(5);
            Thread.sleep(200);
            HandoffAccepted accepted = Holds.handoff(bed, bed.capture(conn));
            byte[] forged = accepted.token().clone();
            forged[forged.length - 1] ^= 1;

            Message reply = bed.host().handoffs().release(new ReleaseRequest(accepted.flow(), forged), this)
                    .get(10, TimeUnit.SECONDS);
            assertThat(reply).isInstanceOf(ErrorReply.class);
            assertThat(((ErrorReply) reply).code()).isEqualTo(ErrorCode.BAD_TOKEN);
            Message confirm = bed.host().handoffs().confirm(new org.tcpferry.protocol.ReleaseConfirm(accepted.flow(),
                    new byte[3])).get(10, TimeUnit.SECONDS);
            assertThat(((ErrorReply) confirm).code()).isEqualTo(ErrorCode.BAD_TOKEN);

            long before = Holds.held(bed, accepted.flow()).path("bytesFromPeer").asLong();
            Thread.sleep(4000); // longer than the peer's 3 s user timeout
            JsonNode entry = Holds.held(bed, accepted.flow());
            assertThat(entry.path("state").asText()).isEqualTo("HOLDING");
            assertThat(entry.path("bytesFromPeer").asLong()).isGreaterThan(before);
            assertThat(conn.stream.failure()).isNull();

            handBackAndCompare(bed, conn, accepted);
        }
    }

    @Test
    void fullConnectionQuotaClosesTheWindowAndAPatientPeerSurvives() throws Exception {
        // The domain's budget is the connection's: once this connection is full, the domain is too.
        QuotaConfig small = new QuotaConfig(512L * 1024, 512L * 1024, 128L * 1024, null);
        try (HostTestBed bed = HostTestBed.create("host quota", small, "", "connect")) {
            Conn conn = bed.connect(PEER_V4, 7004, PeerTuning.NONE).streaming(0);
            Thread.sleep(200);
            HandoffAccepted accepted = Holds.handoff(bed, bed.capture(conn));

            JsonNode full = Holds.awaitStatus(bed, accepted.flow(), e -> e.path("window").asText().equals("closed: quota"), 10_000);
            assertThat(full.path("bytesFromPeer").asLong()).isEqualTo(512L * 1024);
            // With an fd keeper the spool is a file from its first byte, so that it survives a restart.
            assertThat(full.path("bytesOnDisk").asLong()).as("beyond the memory quota the spool is a file")
                    .isEqualTo(HostTestBed.WITH_FD_KEEPER ? 512L * 1024 : 512L * 1024 - 128 * 1024);
            long sent = conn.stream.sent();

            Conn second = bed.connect(PEER_V4, 7004, PeerTuning.NONE);
            ConnectionState secondState = bed.capture(second);
            Message refused = bed.host().handoffs().handoff(new HandoffRequest(HostTestBed.DOMAIN, secondState))
                    .get(10, TimeUnit.SECONDS);
            assertThat(HoldAndReleaseTest.code(refused)).isEqualTo(ErrorCode.QUOTA_FULL);
            bed.handBack(second, secondState); // the agent takes a refused connection back as it was

            Thread.sleep(3000);
            assertThat(conn.stream.failure()).as("peer without user timeout waits on a zero window").isNull();
            assertThat(Holds.held(bed, accepted.flow()).path("state").asText()).isEqualTo("HOLDING");
            System.out.printf("quota: window closed at %d bytes spooled; peer sent %d then %d bytes%n",
                    full.path("bytesFromPeer").asLong(), sent, conn.stream.sent());

            handBackAndCompare(bed, conn, accepted);
        }
    }

    @Test
    void peerFinDuringTheHoldIsHandedBackAfterTheData() throws Exception {
        try (HostTestBed bed = HostTestBed.create("host peer fin")) {
            Conn conn = bed.connect(PEER_V4, 7005, PeerTuning.IMPATIENT).streaming(5);
            Thread.sleep(200);
            HandoffAccepted accepted = Holds.handoff(bed, bed.capture(conn));
            Thread.sleep(500);
            String sent = conn.stream.finish(); // FIN while held

            JsonNode entry = Holds.awaitStatus(bed, accepted.flow(), e -> e.path("peer").asText().equals("FIN"), 5000);
            assertThat(entry.path("state").asText()).isEqualTo("HOLDING");
            // An aborted release re-holds from the half-closed state: the new copy gets the FIN injected.
            ReleaseGranted first = Holds.release(bed, accepted, this);
            assertThat(first.finalState().state()).isEqualTo(TcpState.CLOSE_WAIT);
            assertThat(bed.host().handoffs().abort(new ReleaseAbort(accepted.flow(), accepted.token())).get(10, TimeUnit.SECONDS))
                    .isInstanceOf(Ack.class);
            Holds.awaitStatus(bed, accepted.flow(), e -> e.path("state").asText().equals("HOLDING"), 5000);
            assertThat(bed.topology().hostA().exec("ss", "-tanH").stdout()).as("re-held copy").contains("CLOSE-WAIT");
            ReleaseGranted granted = Holds.release(bed, accepted, this);
            assertThat(granted.finalState().state()).isEqualTo(TcpState.CLOSE_WAIT);
            bed.handBack(conn, granted.finalState());
            Holds.confirm(bed, accepted);

            assertThat(conn.reader.awaitEof(10_000)).isEqualTo(sent);
            assertThat(conn.reader.received()).isEqualTo(conn.stream.sent());
        }
    }

    @Test
    void peerResetDuringTheHoldIsRecordedAndReleasedAsReset() throws Exception {
        try (HostTestBed bed = HostTestBed.create("host peer rst")) {
            Conn conn = bed.connect(PEER_V4, 7006, PeerTuning.NONE);
            byte[] unread = new byte[100];
            conn.guest.send(unread, unread.length, LibC.MSG_NOSIGNAL); // the peer never reads it
            Thread.sleep(200);
            HandoffAccepted accepted = Holds.handoff(bed, bed.capture(conn));
            conn.peer.close(); // close with unread data: the kernel sends RST

            Holds.awaitStatus(bed, accepted.flow(), e -> e.path("peer").asText().equals("RESET"), 5000);
            ReleaseGranted granted = Holds.release(bed, accepted, this);
            assertThat(granted.peerReset()).isTrue();
            assertThat(granted.finalState()).isNull();
            Holds.confirm(bed, accepted);
            assertThat(Holds.held(bed)).isEmpty();
        }
    }

    @Test
    void peerResetAfterItsFinDuringTheHoldIsRecordedAndReleasedAsReset() throws Exception {
        try (HostTestBed bed = HostTestBed.create("host peer fin rst")) {
            Conn conn = bed.connect(PEER_V4, 7010, PeerTuning.NONE);
            byte[] unread = new byte[100];
            conn.guest.send(unread, unread.length, LibC.MSG_NOSIGNAL); // the peer never reads it
            Thread.sleep(200);
            HandoffAccepted accepted = Holds.handoff(bed, bed.capture(conn));
            conn.peer.shutdown(LibC.SHUT_WR); // FIN while held
            Holds.awaitStatus(bed, accepted.flow(), e -> e.path("peer").asText().equals("FIN"), 5000);
            conn.peer.close(); // then close with unread data: the kernel sends RST

            Holds.awaitStatus(bed, accepted.flow(), e -> e.path("peer").asText().equals("RESET"), 5000);
            ReleaseGranted granted = Holds.release(bed, accepted, this);
            assertThat(granted.peerReset()).isTrue();
            Holds.confirm(bed, accepted);
            assertThat(Holds.held(bed)).isEmpty();
        }
    }

    @Test
    void anotherGuestConnectionKeepsFlowingInTheGuestDuringTheHold() throws Exception {
        try (HostTestBed bed = HostTestBed.create("host other flow")) {
            Conn held = bed.connect(PEER_V4, 7007, PeerTuning.IMPATIENT).streaming(5);
            Conn other = bed.connect(PEER_V4, 7007, PeerTuning.IMPATIENT).streaming(5);
            Thread.sleep(200);
            HandoffAccepted accepted = Holds.handoff(bed, bed.capture(held));
            long otherBefore = other.reader.received();
            Thread.sleep(2000);
            assertThat(other.reader.received()).as("the guest's other connection").isGreaterThan(otherBefore + 100_000);
            assertThat(Holds.held(bed)).hasSize(1);

            handBackAndCompare(bed, held, accepted);
            String otherSent = other.stream.finish();
            assertThat(other.reader.awaitEof(10_000)).isEqualTo(otherSent);
        }
    }

    @Test
    void abortedOrAbandonedReleaseHoldsAgainWithoutLosingBytes() throws Exception {
        try (HostTestBed bed = HostTestBed.create("host abort")) {
            Conn conn = bed.connect(PEER_V4, 7008, PeerTuning.IMPATIENT).streaming(5);
            Thread.sleep(200);
            HandoffAccepted accepted = Holds.handoff(bed, bed.capture(conn));
            Thread.sleep(500);

            ReleaseGranted first = Holds.release(bed, accepted, this);
            assertThat(first.finalState().received().length).isPositive();
            Message abort = bed.host().handoffs().abort(new ReleaseAbort(accepted.flow(), accepted.token()))
                    .get(10, TimeUnit.SECONDS);
            assertThat(abort).isInstanceOf(Ack.class);
            assertThat(Holds.held(bed, accepted.flow()).path("state").asText()).isEqualTo("HOLDING");
            Thread.sleep(1000);

            Object vanishing = new Object();
            ReleaseGranted second = Holds.release(bed, accepted, vanishing);
            assertThat(second.finalState().received().length).isGreaterThan(first.finalState().received().length);
            bed.host().handoffs().requesterGone(vanishing).get(10, TimeUnit.SECONDS);
            assertThat(Holds.held(bed, accepted.flow()).path("state").asText()).isEqualTo("HOLDING");
            Thread.sleep(1000);
            assertThat(conn.stream.failure()).isNull();

            handBackAndCompare(bed, conn, accepted);
        }
    }

    /**
     * The requester's link is cut and comes back (a relaying host manager): the holder aborts the
     * release for the closed link while the confirm arrives over the new one. Exactly one of them
     * may act: the abort claimed the release, so the confirm is refused and the copy holds on (a
     * confirm acknowledged here would leave the re-held copy steered beside the guest's socket).
     */
    @Test
    void aConfirmArrivingWhileTheReleaseIsAbortedIsRefusedAndTheHoldGoesOn() throws Exception {
        try (HostTestBed bed = HostTestBed.create("host abort race")) {
            Conn conn = bed.connect(PEER_V4, 7063, PeerTuning.IMPATIENT).streaming(5);
            Thread.sleep(200);
            HandoffAccepted accepted = Holds.handoff(bed, bed.capture(conn));
            Thread.sleep(500);

            Object cutLink = new Object();
            Holds.release(bed, accepted, cutLink);
            var aborting = bed.host().handoffs().requesterGone(cutLink);
            Message confirm = bed.host().handoffs()
                    .confirm(new org.tcpferry.protocol.ReleaseConfirm(accepted.flow(), accepted.token()))
                    .get(10, TimeUnit.SECONDS);
            aborting.get(10, TimeUnit.SECONDS);
            assertThat(confirm).as("the confirm after the abort began").isInstanceOf(ErrorReply.class);
            assertThat(Holds.held(bed, accepted.flow()).path("state").asText()).isEqualTo("HOLDING");
            Thread.sleep(1000);
            assertThat(conn.stream.failure()).isNull();

            handBackAndCompare(bed, conn, accepted);
        }
    }

    @Test
    void bytesTheGuestQueuedForThePeerAreDeliveredByTheCopy() throws Exception {
        try (HostTestBed bed = HostTestBed.create("host guest to peer")) {
            Conn conn = bed.connect(PEER_V4, 7009, PeerTuning.NONE);
            // The peer does not read yet: the guest's bytes pile up in the peer's receive queue and
            // the guest's send queue, part in flight (unacked), part never sent (unsent).
            byte[] chunk = new byte[64 * 1024];
            long queued = 0;
            while (true) {
                for (int i = 0; i < chunk.length; i++) {
                    chunk[i] = PeerStream.byteAt(queued + i);
                }
                try {
                    queued += conn.guest.send(chunk, chunk.length, LibC.MSG_DONTWAIT | LibC.MSG_NOSIGNAL);
                } catch (org.tcpferry.sys.SyscallException.WouldBlockException full) {
                    break;
                }
            }
            Thread.sleep(300);
            ConnectionState state = bed.capture(conn);
            assertThat(state.unacked().length + state.unsent().length).as("guest's send queue").isPositive();
            HandoffAccepted accepted = Holds.handoff(bed, state);
            assertThat(Holds.held(bed, accepted.flow()).path("bytesToPeer").asLong())
                    .isEqualTo(state.unacked().length + state.unsent().length);

            byte[] buffer = new byte[256 * 1024];
            long read = 0;
            long deadline = System.currentTimeMillis() + 20_000;
            while (read < queued && System.currentTimeMillis() < deadline) {
                if ((conn.peer.poll(LibC.POLLIN, 200) & LibC.POLLIN) == 0) {
                    continue;
                }
                int n = conn.peer.recv(buffer, buffer.length, LibC.MSG_DONTWAIT);
                for (int i = 0; i < n; i++) {
                    if (buffer[i] != PeerStream.byteAt(read + i)) {
                        throw new AssertionError("peer got a wrong byte at " + (read + i));
                    }
                }
                read += n;
            }
            assertThat(read).as("bytes the peer read, all of them through the copy after the first queue").isEqualTo(queued);

            Thread.sleep(300); // the peer's last ACKs reach the copy
            ReleaseGranted granted = Holds.release(bed, accepted, this);
            assertThat(granted.finalState().unacked().length + granted.finalState().unsent().length).isZero();
            bed.handBack(conn, granted.finalState());
            Holds.confirm(bed, accepted);
            byte[] after = {1, 2, 3};
            conn.guest.send(after, after.length, LibC.MSG_NOSIGNAL);
            assertThat(conn.peer.poll(LibC.POLLIN, 5000) & LibC.POLLIN).as("the guest's next bytes reach the peer").isNotZero();
            assertThat(conn.peer.recv(buffer, buffer.length, LibC.MSG_DONTWAIT)).isEqualTo(3);
        }
    }

    /** Releases, conforms the guest socket, confirms, then checks the whole stream arrived intact. */
    static void handBackAndCompare(HostTestBed bed, Conn conn, HandoffAccepted accepted) throws Exception {
        ReleaseGranted granted = Holds.release(bed, accepted, conn);
        bed.handBack(conn, granted.finalState());
        Holds.confirm(bed, accepted);
        Thread.sleep(300);
        String sent = conn.stream.finish();
        assertThat(conn.reader.awaitEof(20_000)).as("SHA-256 guest vs peer").isEqualTo(sent);
        assertThat(conn.reader.received()).isEqualTo(conn.stream.sent());
        assertThat(Holds.held(bed)).isEmpty();
    }


    @Test
    void releaseAbortedBeforeItFinishedHoldsAgainWithoutLosingBytes() throws Exception {
        try (HostTestBed bed = HostTestBed.create("host early abort")) {
            Conn conn = bed.connect(PEER_V4, 7010, PeerTuning.IMPATIENT).streaming(5);
            Thread.sleep(200);
            HandoffAccepted accepted = Holds.handoff(bed, bed.capture(conn));
            Thread.sleep(500);

            // The requester goes away while its release is still unsteering and dumping: the abort
            // must wait for the release, then restore a copy from what it dumped.
            Object vanishing = new Object();
            java.util.concurrent.CompletableFuture<Message> release = bed.host().handoffs()
                    .release(new ReleaseRequest(accepted.flow(), accepted.token()), vanishing);
            bed.host().handoffs().requesterGone(vanishing).get(10, TimeUnit.SECONDS);
            assertThat(release.get(10, TimeUnit.SECONDS)).isInstanceOf(ReleaseGranted.class);
            assertThat(Holds.held(bed, accepted.flow()).path("state").asText()).isEqualTo("HOLDING");
            Thread.sleep(1000);
            assertThat(conn.stream.failure()).isNull();

            handBackAndCompare(bed, conn, accepted);
        }
    }

    @Test
    void holdNobodyReclaimsExpiresAndResetsThePeer() throws Exception {
        QuotaConfig expiring = new QuotaConfig(null, null, null, null, 2L);
        try (HostTestBed bed = HostTestBed.create("host expiry", expiring, "", "connect")) {
            Conn conn = bed.connect(PEER_V4, 7011, PeerTuning.NONE).streaming(5);
            Thread.sleep(200);
            HandoffAccepted accepted = Holds.handoff(bed, bed.capture(conn));
            assertThat(Holds.held(bed, accepted.flow()).path("state").asText()).isEqualTo("HOLDING");

            // quotas.holdSeconds = 2 and nobody reclaims: the hold ends, the peer is told at once.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while ((!Holds.held(bed).isEmpty() || conn.stream.failure() == null) && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(Holds.held(bed)).as("no hold left").isEmpty();
            assertThat(conn.stream.failure()).as("the peer's stream ends with a reset").isNotNull();
            assertThat(conn.stream.failure().errno()).isIn(org.tcpferry.sys.Errno.ECONNRESET, org.tcpferry.sys.Errno.EPIPE);

            Message late = bed.host().handoffs().release(new ReleaseRequest(accepted.flow(), accepted.token()), this)
                    .get(10, TimeUnit.SECONDS);
            assertThat(late).isInstanceOf(ErrorReply.class);
            assertThat(((ErrorReply) late).code()).isEqualTo(ErrorCode.UNKNOWN_FLOW);
        }
    }
}
