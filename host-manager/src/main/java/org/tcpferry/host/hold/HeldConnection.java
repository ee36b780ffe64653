package org.tcpferry.host.hold;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tcpferry.protocol.FlowKey;
import org.tcpferry.repair.ConnectionState;
import org.tcpferry.repair.RestoreOptions;
import org.tcpferry.repair.TcpRepair;
import org.tcpferry.sys.Errno;
import org.tcpferry.sys.LibC;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.SockOpt;
import org.tcpferry.sys.SyscallException;

/**
 * One guest connection the host holds: the copy socket, restored from the guest's state, and the
 * spool of what the peer sent since. Methods that touch the socket or spool run on the
 * namespace's {@link CopyLoop} thread only; the fields status reads are volatile.
 *
 * <p>The copy never sends FIN or RST: it is only ever closed through
 * {@link TcpRepair#closeSilently}, and only after its flow is no longer steered to it.
 */
public final class HeldConnection {
    private static final Logger log = LoggerFactory.getLogger(HeldConnection.class);

    /** What a copy can take from the peer with nobody reading it (a host manager restart). */
    static final int RESTART_RECEIVE_BUFFER = 8 * 1024 * 1024;

    private final String domain;
    private final FlowKey flow;
    private final byte[] token;
    private final Instant since;
    private final SpoolQuota quota;
    private final Spool spool;
    private final long bytesToPeer;
    private final int steeringMark;
    private final int copyMark;
    /** The peer's sequence number of the spool's first byte ({@link KeptCopy#spoolStartSeq}). */
    private final int spoolStartSeq;
    private boolean discarded;
    private CopyKeeper keeper = CopyKeeper.NONE;
    /** Whether the keeper was told to drop this connection's copy. */
    private boolean keeperForgot;
    /** The copy holds the connection for the guest (steered): a restart holds it again. */
    private volatile boolean accepted;

    private NativeSocket copy;
    /** The descriptor the {@link CopyLoop} registered for this copy, or -1; loop thread only. */
    int watchedFd = -1;
    /** Whether that registration asks for EPOLLIN; loop thread only. */
    boolean watchedReading;
    /** The state the copy was (last) restored from, without the spool's bytes. */
    private ConnectionState restoredFrom;
    /** The copy's state at release, as dumped, before the spool is prepended. */
    private ConnectionState dumped;

    private volatile HoldState state = HoldState.RESTORING;
    /** Whether a confirm or an abort claimed the current release ({@link #settleRelease}). */
    private boolean releaseSettled;
    private volatile PeerState peer = PeerState.OPEN;
    private volatile boolean windowClosedByQuota;
    private volatile long bytesFromPeer;
    private volatile String error = "";
    private volatile Object releaser;
    /** The release under way, or a completed future: an abort must wait for it to settle. */
    private volatile CompletableFuture<ConnectionState> pendingRelease = CompletableFuture.completedFuture(null);

    /**
     * @param steeringMark the mark that policy routing delivers locally (FlowSteering's)
     * @param copyMark the copy's own SO_MARK, which must not be {@code steeringMark}
     */
    public HeldConnection(String domain, ConnectionState handedOff, byte[] token, SpoolQuota quota, Spool spool,
            int steeringMark, int copyMark) {
        this.domain = domain;
        this.flow = FlowKey.of(handedOff);
        this.token = token.clone();
        this.since = Instant.now();
        this.quota = quota;
        this.spool = spool;
        this.restoredFrom = handedOff;
        this.bytesToPeer = (long) handedOff.unacked().length + handedOff.unsent().length;
        this.steeringMark = steeringMark;
        this.copyMark = copyMark;
        this.spoolStartSeq = handedOff.receiveQueueSeq();
    }

    /** A connection a host manager that died held, rebuilt from its keeper's record ({@link #adopt}). */
    private HeldConnection(FlowKey flow, KeptCopy record, SpoolQuota quota, Spool spool, NativeSocket copy,
            int steeringMark, int copyMark) {
        this.domain = record.domain();
        this.flow = flow;
        this.token = java.util.Base64.getDecoder().decode(record.token());
        this.since = Instant.ofEpochMilli(record.sinceEpochMillis());
        this.quota = quota;
        this.spool = spool;
        this.bytesToPeer = record.bytesToPeer();
        this.steeringMark = steeringMark;
        this.copyMark = copyMark;
        this.spoolStartSeq = record.spoolStartSeq();
        this.copy = copy;
        this.bytesFromPeer = spool.size();
        this.accepted = true;
    }

    /**
     * Sends this connection's copy and record to {@code keeper} from now on; its spool goes to a
     * file at once, so that both survive the host manager. Before the hold starts.
     */
    void keptBy(CopyKeeper keeper) throws IOException {
        spool.keepOnDisk();
        this.keeper = keeper;
    }

    /** The record a restarted host manager rebuilds this connection from. */
    KeptCopy record() {
        return new KeptCopy(domain, java.util.Base64.getEncoder().encodeToString(token), bytesToPeer,
                since.toEpochMilli(), spoolStartSeq, String.valueOf(spool.file()), accepted);
    }

    private void keepCopy() {
        if (keeper != CopyKeeper.NONE) { // no record to build without a keeper (one per restore and re-keep)
            keeper.keep(flow, record(), copy.fd());
        }
    }

    /**
     * Sends the copy and its record to the keeper again, on the loop thread: the keeper that had
     * them died and a new one knows nothing. A copy already closed or forgotten is not sent.
     * @return whether it was sent
     */
    boolean keepAgain() {
        if (copy == null || copy.isClosed() || keeperForgot) {
            return false;
        }
        keepCopy();
        return true;
    }

    /**
     * Rebuilds, on the loop thread, a connection whose copy a keeper kept across the death of the
     * host manager that held it. The spool file is cut to what the copy had consumed (the copy
     * writes the spool before it consumes, so the file may hold a little more, never less).
     *
     * <p>A copy in repair mode had been dumped for a release that nobody confirmed: the guest
     * still has its flow blocked and asks again, as after any unconfirmed release, so it is
     * dumped again and held by a new copy ({@link #restoreAfterAbort}), which the caller steers.
     * A copy in any other state kept holding, steered, the whole time: it is only watched again.
     *
     * @return the connection, RESTORING if the caller must restore and steer it, HOLDING-ready otherwise
     */
    static HeldConnection adopt(KeptCopy record, NativeSocket copy, SpoolQuota quota, CopyKeeper keeper,
            int steeringMark, int copyMark) throws IOException {
        FlowKey flow = new FlowKey(copy.localAddress(), copy.remoteAddress());
        copy.describe(flow.toString());
        boolean released = copy.getInt(SockOpt.TCP_REPAIR) != 0;
        ConnectionState dumped = released ? TcpRepair.dump(copy, flow.local(), flow.remote()) : null;
        int readUpTo = released ? dumped.receiveQueueSeq() : TcpRepair.readUpTo(copy);
        long consumed = Integer.toUnsignedLong(readUpTo - record.spoolStartSeq());
        Path file = Path.of(record.spoolFile());
        Spool spool = Spool.adopt(file, consumed, file.getFileName().toString());
        quota.take(consumed);
        HeldConnection held = new HeldConnection(flow, record, quota, spool, copy, steeringMark, copyMark);
        held.keeper = keeper;
        held.dumped = dumped;
        if (released) {
            keeper.drop(flow); // the old copy must be gone before a new one can take its 4-tuple
            held.closeCopy();
        }
        log.info("event=copy_adopted domain={} flow={} spooled={} released_before={}", held.domain, flow, consumed,
                released);
        return held;
    }

    /** Whether {@link #adopt} found a released copy: the caller restores and steers it again. */
    boolean needsRestore() {
        return dumped != null;
    }

    // ---- loop thread ----

    /** Creates the copy socket (RESTORING); the caller steers the flow only after this returns. */
    void restore() throws IOException {
        // A peer FIN is delivered by a raw packet that carries the restore mark; only the
        // steering mark routes it to this host's stack (with the copy mark it would leave for the
        // guest). The copy itself must not keep the steering mark, or its own packets to the peer
        // would be routed back to this host: it switches to the copy mark at once.
        boolean injectsFin = restoredFrom.state().finReceived();
        long start = System.nanoTime();
        copy = TcpRepair.restore(restoredFrom, RestoreOptions.transparent(injectsFin ? steeringMark : copyMark));
        copy.describe(flow.toString());
        if (injectsFin) {
            copy.setInt(SockOpt.SO_MARK, copyMark);
        }
        // While the host manager restarts nobody reads the copy: the kernel then acknowledges the
        // peer only as far as this buffer goes, and a peer facing a closed window gives up after
        // its user timeout. The kernel doubles the value; memory is only used as data waits.
        copy.setInt(SockOpt.SO_RCVBUFFORCE, RESTART_RECEIVE_BUFFER / 2);
        keepCopy();
        if (!accepted) {
            CrashPoint.AFTER_RESTORE.reached();
        }
        log.debug("event=copy_restored domain={} flow={} state={} micros={}", domain, flow, state,
                (System.nanoTime() - start) / 1000);
    }

    /** The copy exists and its flow is steered: start holding. */
    void startHolding(CopyLoop loop) throws SyscallException {
        if (copy == null || copy.isClosed()) {
            throw new IllegalStateException("no copy socket to hold " + flow + " with");
        }
        state = HoldState.HOLDING;
        if (!accepted) {
            accepted = true;
            keepCopy();
        }
        loop.watch(this);
        log.debug("event=holding domain={} flow={} state={}", domain, flow, state);
    }

    int copyFd() {
        return copy.fd();
    }

    /** Whether the loop should ask for EPOLLIN: holding, peer still open, and spool room left. */
    boolean readInterest() {
        if (state != HoldState.HOLDING || peer != PeerState.OPEN) {
            return false;
        }
        boolean room = quota.room(spool.size()) > 0;
        if (room == windowClosedByQuota) {
            windowClosedByQuota = !room;
            log.info("event={} domain={} flow={} spooled={}", room ? "window_reopened" : "window_closed_quota",
                    domain, flow, spool.size());
        }
        return room;
    }

    /** Whether the copy reads nothing only because its spool quota is used up (it may read again). */
    boolean waitsForQuota() {
        return windowClosedByQuota && state == HoldState.HOLDING && peer == PeerState.OPEN;
    }

    /**
     * Reads what the copy has, up to {@code budget} bytes and the spool quota.
     * @return false when the copy will never be readable again (reset, lost)
     */
    boolean onReady(int revents, byte[] buffer, int budget) {
        if (peer != PeerState.OPEN && (revents & (LibC.POLLHUP | LibC.POLLERR)) != 0) {
            // Nothing is read after the peer's FIN, so a hang-up or an error now is the peer's RST
            // after its FIN (the copy is closed). Record it and stop watching: the loop is level
            // triggered and would report it at every wake-up.
            if (peer == PeerState.FIN) {
                peer = PeerState.RESET;
                log.info("event=peer_reset domain={} flow={} spooled={} state={} after=fin", domain, flow, spool.size(),
                        state);
            }
            return false;
        }
        try {
            int total = 0;
            while (total < budget && peer == PeerState.OPEN) {
                long room = quota.room(spool.size());
                if (room == 0) {
                    break;
                }
                int want = (int) Math.min(buffer.length, room);
                int n;
                try {
                    // Peek, spool, then consume: bytes leave the kernel only once the spool has
                    // them, so a host manager killed in between loses nothing (adopt() cuts the
                    // spool back to what was consumed).
                    n = copy.recv(buffer, want, LibC.MSG_DONTWAIT | LibC.MSG_PEEK);
                } catch (SyscallException.WouldBlockException drained) {
                    break;
                }
                if (n == 0) {
                    peer = PeerState.FIN;
                    log.info("event=peer_fin domain={} flow={} spooled={} state={}", domain, flow, spool.size(), state);
                    break;
                }
                spool.append(buffer, 0, n);
                consume(buffer, n);
                quota.take(n);
                bytesFromPeer += n;
                total += n;
            }
            return true;
        } catch (SyscallException e) {
            if (e.errno() == Errno.ECONNRESET) {
                peer = PeerState.RESET;
                log.info("event=peer_reset domain={} flow={} spooled={} state={}", domain, flow, spool.size(), state);
            } else {
                peer = PeerState.LOST;
                error = e.getMessage();
                log.warn("event=peer_lost domain={} flow={} state={} error=\"{}\"", domain, flow, state, e.getMessage());
            }
            return false;
        } catch (IOException e) {
            state = HoldState.FAILED;
            error = "spool: " + e.getMessage();
            log.error("event=spool_failed domain={} flow={} state={} error=\"{}\"", domain, flow, state, e.getMessage());
            return false;
        }
    }

    /** Takes the {@code n} bytes just peeked and spooled out of the copy's receive queue (into {@code buffer} again). */
    private void consume(byte[] buffer, int n) throws SyscallException {
        int taken = copy.recv(buffer, n, LibC.MSG_DONTWAIT);
        if (taken != n) {
            throw new IllegalStateException("peeked " + n + " bytes of " + flow + " but could take only " + taken);
        }
    }

    /**
     * The release, after the flow is unsteered: stop reading, dump the copy, close it silently.
     * @return the final state with every spooled byte in front of the dumped receive queue, or null
     *     if the peer reset the connection (nothing to carry)
     */
    ConnectionState stopAndDump(CopyLoop loop) throws IOException {
        loop.unwatch(this);
        if (peer == PeerState.RESET || peer == PeerState.LOST) {
            closeCopy();
            return null;
        }
        dumped = TcpRepair.dump(copy, flow.local(), flow.remote()); // the copy was restored for this flow
        closeCopy();
        CrashPoint.AFTER_RELEASE_DUMP.reached();
        byte[] spooled = spool.readAll();
        byte[] kernel = dumped.received();
        byte[] all = new byte[spooled.length + kernel.length];
        System.arraycopy(spooled, 0, all, 0, spooled.length);
        System.arraycopy(kernel, 0, all, spooled.length, kernel.length);
        return dumped.withReceived(all);
    }

    /**
     * A release was aborted: a new copy from the dumped state (its kernel receive queue only; the
     * spool is kept and stays in front), steered again by the caller after this returns.
     */
    void restoreAfterAbort() throws IOException {
        if (dumped != null) {
            restoredFrom = dumped;
            dumped = null;
            keeper.drop(flow); // its duplicate of the dumped copy would keep the 4-tuple taken
            restore();
        }
    }

    /**
     * Ends a connection nobody will reclaim: the copy, out of repair mode, closes with SO_LINGER 0,
     * which sends the peer a RST so it learns at once that the connection is gone. Then the spool is
     * freed. The flow must already be unsteered.
     */
    void resetPeer(CopyLoop loop) {
        stopWatching(loop);
        keeper.drop(flow); // the RST goes out only when the last descriptor of the copy closes
        if (copy != null && !copy.isClosed()) {
            try {
                copy.setBytes(SockOpt.SO_LINGER, new byte[] {1, 0, 0, 0, 0, 0, 0, 0}); // l_onoff 1, l_linger 0
                copy.close();
            } catch (SyscallException e) {
                error = e.getMessage();
                log.error("event=copy_reset_failed domain={} flow={} error=\"{}\"", domain, flow, e.getMessage());
            }
            copy = null;
        }
        discard(loop);
    }

    /** The fd keeper forgets this connection's copy (a confirmed release must not be adopted again). */
    synchronized void forgetKept() {
        if (!keeperForgot) {
            keeperForgot = true;
            keeper.drop(flow);
        }
    }

    /** Frees the copy (silently) and the spool; the flow must already be unsteered. */
    void discard(CopyLoop loop) {
        stopWatching(loop);
        if (discarded) {
            return; // a shutdown may race a failure's cleanup; the quota must be given back once
        }
        discarded = true;
        forgetKept(); // once: a later DROP could remove the copy of the same flow handed off again
        try {
            closeCopy();
        } catch (IOException e) {
            error = e.getMessage();
            log.error("event=copy_close_failed domain={} flow={} error=\"{}\"", domain, flow, e.getMessage());
        }
        long spooled = spool.size();
        try {
            spool.close();
        } catch (IOException e) {
            log.error("event=spool_close_failed domain={} flow={} error=\"{}\"", domain, flow, e.getMessage());
        }
        quota.give(spooled);
    }

    /**
     * After a failed release: the copy goes on as it was (repair off, no window probe); if it was
     * already dumped and closed, a new copy is restored from the dump.
     */
    void resumeAfterFailedRelease() throws IOException {
        if (copy != null && !copy.isClosed()) {
            TcpRepair.resume(copy);
        } else {
            restoreAfterAbort();
        }
    }

    /** Unwatches the copy before it is closed; a refusal is recorded, and the copy closed all the same. */
    private void stopWatching(CopyLoop loop) {
        try {
            loop.unwatch(this);
        } catch (SyscallException e) {
            error = e.getMessage();
            log.error("event=copy_unwatch_failed domain={} flow={} error=\"{}\"", domain, flow, e.getMessage());
        }
    }

    private void closeCopy() throws SyscallException {
        if (copy != null && !copy.isClosed()) {
            TcpRepair.closeSilently(copy);
            copy = null;
        }
    }

    // ---- any thread ----

    public String domain() {
        return domain;
    }

    public FlowKey flow() {
        return flow;
    }

    /** The token issued at handoff (a copy). */
    public byte[] token() {
        return token.clone();
    }

    public HoldState state() {
        return state;
    }

    synchronized void state(HoldState next, String why) {
        HoldState previous = state;
        state = next;
        // A release's steps, per connection, are debug: a reclaim of 10,000 connections would log
        // 20,000 lines (the agent's reclaim_done and the host's released_all sum them up).
        // Whatever ends a hold otherwise (FAILED, EXPIRED) is worth a line each.
        if (next == HoldState.RELEASING || next == HoldState.RELEASED) {
            log.debug("event=hold_state domain={} flow={} from={} state={} why=\"{}\"", domain, flow, previous, next, why);
        } else {
            log.info("event=hold_state domain={} flow={} from={} state={} why=\"{}\"", domain, flow, previous, next, why);
        }
    }

    /**
     * Moves from {@code expected} to {@code next} only if the connection is still in
     * {@code expected}: a release and an expiry may race for a HOLDING connection, and exactly one
     * of them may win.
     */
    synchronized boolean moveFrom(HoldState expected, HoldState next, String why) {
        if (state != expected) {
            return false;
        }
        if (next == HoldState.RELEASING) {
            releaseSettled = false; // a new release: its confirm or abort is still to come
        }
        state(next, why);
        return true;
    }

    /** Whether a confirm or an abort already claimed the current release. */
    synchronized boolean releaseSettled() {
        return releaseSettled;
    }

    /**
     * Claims the outcome of the current release for a confirm or an abort, whichever comes first;
     * the other then leaves it alone. They can race when the requester's link is cut and comes
     * back: the holder aborts for the closed link while the confirm arrives over the new one, and
     * both acting would leave a steered copy beside the guest's socket.
     * @return whether the caller settles the release
     */
    synchronized boolean settleRelease() {
        if (state != HoldState.RELEASING || releaseSettled) {
            return false;
        }
        releaseSettled = true;
        return true;
    }

    void fail(String why) {
        error = why;
        state(HoldState.FAILED, why);
    }

    public PeerState peer() {
        return peer;
    }

    /** "open", or "closed: quota" while the spool is full and the copy does not read. */
    public String window() {
        return windowClosedByQuota ? "closed: quota" : "open";
    }

    public long bytesFromPeer() {
        return bytesFromPeer;
    }

    /** Bytes the guest had queued for the peer when it handed the connection over. */
    public long bytesToPeer() {
        return bytesToPeer;
    }

    public long bytesOnDisk() {
        return spool.bytesOnDisk();
    }

    /** The spool's file, or null while it is all in memory. */
    public Path spoolFile() {
        return spool.file();
    }

    public Duration age() {
        return Duration.between(since, Instant.now());
    }

    public String error() {
        return error;
    }

    /** Who asked for the pending release (a channel), so that its loss can abort the release. */
    public Object releaser() {
        return releaser;
    }

    void releaser(Object who) {
        releaser = who;
    }

    CompletableFuture<ConnectionState> pendingRelease() {
        return pendingRelease;
    }

    void pendingRelease(CompletableFuture<ConnectionState> release) {
        pendingRelease = release;
    }

    @Override
    public String toString() {
        return "HeldConnection[" + domain + " " + flow + " " + state + "]";
    }
}
