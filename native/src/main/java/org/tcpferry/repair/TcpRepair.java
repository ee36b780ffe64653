package org.tcpferry.repair;

import static org.tcpferry.sys.LibC.MSG_DONTWAIT;
import static org.tcpferry.sys.LibC.MSG_NOSIGNAL;
import static org.tcpferry.sys.LibC.MSG_PEEK;
import static org.tcpferry.sys.LibC.TCP_NO_QUEUE;
import static org.tcpferry.sys.LibC.TCP_RECV_QUEUE;
import static org.tcpferry.sys.LibC.TCP_SEND_QUEUE;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Arrays;
import org.tcpferry.sys.Errno;
import org.tcpferry.sys.LibC;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.SockAddr;
import org.tcpferry.sys.SockOpt;
import org.tcpferry.sys.SyscallException;

/**
 * Reads a live TCP connection out of the kernel and puts it back, through the repair interface
 * (TCP_REPAIR and its companion options). Facts it relies on are in docs/architecture.md and were
 * measured on the project's machines.
 *
 * <p>Preconditions the caller guarantees: nobody else uses the socket while this works on it (the
 * owner is frozen: in repair mode its send() fails with EINVAL and recv() with EPERM), and for
 * {@link #dump} the flow is already blocked, so that no segment arrives between the dump and
 * {@link #detach} and is acknowledged by a socket whose state has already been taken.
 */
public final class TcpRepair {
    /** The kernel refuses TCP_MAXSEG values above this (MAX_TCP_WINDOW); loopback clamps exceed it. */
    private static final int MAX_SETTABLE_MSS = 32767;
    /** First size of a queue refill write; halved on ENOMEM down to {@link #MIN_REFILL_CHUNK}. */
    private static final int REFILL_CHUNK = 256 * 1024;
    private static final int MIN_REFILL_CHUNK = 1024;
    /** How long writing the unsent tail may wait for send-buffer room. */
    private static final int UNSENT_WRITE_TIMEOUT_MS = 5000;

    private TcpRepair() {}

    /**
     * Reads the connection's complete state. The socket is left in repair mode: follow with
     * {@link #detach} (the guest), {@link #closeSilently} (the host's copy) or {@link #resume}
     * (rollback, nothing changed). The flow's addresses are read from the socket
     * (getsockname, getpeername); a caller that knows them uses {@link #dump(NativeSocket,
     * InetSocketAddress, InetSocketAddress)}, two calls fewer.
     *
     * @throws UnsupportedStateException if the state cannot be carried; the socket is unchanged
     */
    public static ConnectionState dump(NativeSocket socket) throws IOException {
        TcpInfo info = carriableInfo(socket);
        InetSocketAddress local = socket.localAddress();
        InetSocketAddress remote = socket.remoteAddress();
        if (socket.flow() == null) {
            socket.describe(SockAddr.format(local) + "->" + SockAddr.format(remote));
        }
        return dumpInRepairMode(socket, info, local, remote);
    }

    /**
     * {@link #dump(NativeSocket)} of a socket whose flow the caller knows (the guest agent from
     * sock_diag, the host from the state it restored the copy from): {@code local} and {@code
     * remote} are recorded as given, in the form getsockname/getpeername report them (an
     * IPv4-mapped address as IPv4, no IPv6 scope id). The caller guarantees that the socket
     * carries exactly this flow; nothing here checks it.
     *
     * @throws UnsupportedStateException if the state cannot be carried; the socket is unchanged
     */
    public static ConnectionState dump(NativeSocket socket, InetSocketAddress local, InetSocketAddress remote)
            throws IOException {
        if (socket.flow() == null) {
            socket.describe(SockAddr.format(local) + "->" + SockAddr.format(remote));
        }
        return dumpInRepairMode(socket, carriableInfo(socket), local, remote);
    }

    /**
     * The state is read once, before repair mode, so that a refused socket is left exactly as it
     * was: turning TCP_REPAIR on and off again is not neutral (it clears SO_REUSEADDR, and a
     * LISTEN socket refuses it with EPERM instead of being reported as uncarriable). The value
     * holds for the whole dump: with the flow blocked and the owner frozen no segment and no call
     * can move the state; only a timer can (to CLOSE, on a timeout), and repair mode does not stop
     * timers (kernel notes, item 6), so a second read in repair mode would not have ruled that
     * out either. The window ends at {@link #detach}.
     */
    private static TcpInfo carriableInfo(NativeSocket socket) throws IOException {
        TcpInfo info = TcpInfo.of(socket);
        if (!info.state().carriable()) {
            throw new UnsupportedStateException(socket.toString(), info.state());
        }
        return info;
    }

    private static ConnectionState dumpInRepairMode(NativeSocket socket, TcpInfo info, InetSocketAddress local,
            InetSocketAddress remote) throws IOException {
        SocketOptions options = readOptions(socket);
        enterRepairMode(socket);
        try {
            return readRepairState(socket, info, local, remote, options);
        } catch (IOException | RuntimeException e) {
            resumeAfterFailure(socket, e);
            throw e;
        }
    }

    private static ConnectionState readRepairState(NativeSocket socket, TcpInfo info, InetSocketAddress local,
            InetSocketAddress remote, SocketOptions options) throws IOException {
        socket.setInt(SockOpt.TCP_REPAIR_QUEUE, TCP_SEND_QUEUE);
        int writeSeq = socket.getInt(SockOpt.TCP_QUEUE_SEQ);
        int outq = socket.ioctlInt(LibC.SIOCOUTQ, "SIOCOUTQ");
        int notSent = socket.ioctlInt(LibC.SIOCOUTQNSD, "SIOCOUTQNSD");
        byte[] sendQueue = peekQueue(socket, outq, "send");

        socket.setInt(SockOpt.TCP_REPAIR_QUEUE, TCP_RECV_QUEUE);
        int rcvNxt = socket.getInt(SockOpt.TCP_QUEUE_SEQ);
        int inq = socket.ioctlInt(LibC.SIOCINQ, "SIOCINQ");
        byte[] received = peekQueue(socket, inq, "receive");
        if (received.length != inq) {
            throw new IllegalStateException("receive queue of " + socket + " holds " + received.length
                    + " bytes but SIOCINQ said " + inq + ": is the flow blocked?");
        }
        // The receive queue stays selected: the reads below do not look at the selection, every
        // later user of a queue (readUpTo, rebuild) selects one first, TCP_REPAIR on resets it
        // and nothing looks at it outside repair mode.

        // The queue's sequence space counts our FIN when it is still unacknowledged, and the
        // FIN is always its last element: if anything is unsent, the FIN is among it.
        boolean finInQueue = info.state().finSent() && outq == sendQueue.length + 1;
        int unsentLength = Math.max(0, Math.min(sendQueue.length, notSent - (finInQueue && notSent > 0 ? 1 : 0)));
        byte[] unacked = Arrays.copyOfRange(sendQueue, 0, sendQueue.length - unsentLength);
        byte[] unsent = Arrays.copyOfRange(sendQueue, sendQueue.length - unsentLength, sendQueue.length);

        int mssClamp = socket.getInt(SockOpt.TCP_MAXSEG);
        int tsVal = info.timestamps() ? socket.getInt(SockOpt.TCP_TIMESTAMP) : 0;
        RepairWindow window = RepairWindow.decode(socket.getBytes(SockOpt.TCP_REPAIR_WINDOW, RepairWindow.SIZE));
        return new ConnectionState(local, remote, info.state(), writeSeq, unacked, unsent, rcvNxt, received,
                mssClamp, info.windowScaling(), info.sndWscale(), info.rcvWscale(), info.sack(), info.timestamps(),
                tsVal, window, options);
    }

    /**
     * Moves a dumped socket to CLOSE without sending FIN or RST, so that none of its timers
     * (retransmission, keepalive, user timeout) can act while the connection lives elsewhere. The
     * peer sees nothing. The socket stays in repair mode, and its descriptor stays valid for
     * {@link #conformInPlace}.
     */
    public static void detach(NativeSocket socket) throws SyscallException {
        enterRepairMode(socket); // outside repair mode the disconnect would send RST
        socket.disconnect();
        clearPendingError(socket);
    }

    /**
     * Turns repair mode on, unless this socket object turned it on itself and has not turned it
     * off since: after {@link #dump}, {@link #detach} and {@link #closeSilently} need no second
     * call. A socket not known to be in repair mode (adopted, or repaired by someone else) always
     * gets the call, so each of them stays safe on its own.
     */
    private static void enterRepairMode(NativeSocket socket) throws SyscallException {
        if (!socket.knownInRepairMode()) {
            socket.setInt(SockOpt.TCP_REPAIR, LibC.TCP_REPAIR_ON);
        }
    }

    /** Leaves repair mode without changing the connection: undoes a {@link #dump}. No window probe is sent. */
    public static void resume(NativeSocket socket) throws SyscallException {
        socket.setInt(SockOpt.TCP_REPAIR, LibC.TCP_REPAIR_OFF_NO_WP);
    }

    /**
     * The sequence number that follows the last data byte the socket's owner has read (copied_seq,
     * not counting a FIN), of a live socket that may keep receiving meanwhile. The socket is in
     * repair mode for the few calls this takes (it sends nothing then) and leaves it without a
     * window probe, unless it was in repair mode already.
     */
    public static int readUpTo(NativeSocket socket) throws SyscallException {
        boolean wasInRepair = socket.getInt(SockOpt.TCP_REPAIR) != 0;
        socket.setInt(SockOpt.TCP_REPAIR, LibC.TCP_REPAIR_ON);
        try {
            socket.setInt(SockOpt.TCP_REPAIR_QUEUE, TCP_RECV_QUEUE);
            while (true) {
                // rcv_nxt and SIOCINQ are two calls: a segment arriving between them moves both.
                // Equal rcv_nxt before and after means the unread count belongs to it.
                int rcvNxt = socket.getInt(SockOpt.TCP_QUEUE_SEQ);
                boolean finReceived = TcpInfo.of(socket).state().finReceived();
                int unread = socket.ioctlInt(LibC.SIOCINQ, "SIOCINQ");
                if (socket.getInt(SockOpt.TCP_QUEUE_SEQ) == rcvNxt) {
                    return rcvNxt - (finReceived ? 1 : 0) - unread;
                }
            }
        } finally {
            socket.setInt(SockOpt.TCP_REPAIR_QUEUE, TCP_NO_QUEUE);
            if (!wasInRepair) {
                resume(socket);
            }
        }
    }

    /** Closes the socket without FIN or RST, even with unread data: the peer sees nothing. */
    public static void closeSilently(NativeSocket socket) throws SyscallException {
        enterRepairMode(socket); // outside repair mode the close would send FIN or RST
        socket.close();
    }

    /**
     * Recreates the connection in a new socket of the calling thread's network namespace. The
     * socket is live when this returns: out of repair mode, its unsent bytes written, a peer FIN
     * that the state records delivered after its data.
     */
    public static NativeSocket restore(ConnectionState state, RestoreOptions options) throws IOException {
        NativeSocket socket = NativeSocket.tcp(SockAddr.family(state.local().getAddress())).describe(state.flow());
        try {
            socket.setInt(SockOpt.TCP_REPAIR, LibC.TCP_REPAIR_ON);
            if (options.transparent()) {
                socket.setInt(state.local().getAddress() instanceof java.net.Inet6Address
                        ? SockOpt.IPV6_TRANSPARENT : SockOpt.IP_TRANSPARENT, 1);
            }
            if (options.mark() != 0) {
                socket.setInt(SockOpt.SO_MARK, options.mark());
            }
            bind(socket, state.local(), false);
            try (NativeSocket finSender = state.state().finReceived()
                    ? FinInjector.openFor(socket, state, options.mark()) : null) {
                rebuild(socket, state, finSender, true);
            }
            return socket;
        } catch (IOException | RuntimeException e) {
            // Never leave a half-built socket behind; close it without a word to the peer.
            try {
                closeSilently(socket);
            } catch (SyscallException closeFailure) {
                e.addSuppressed(closeFailure);
            }
            throw e;
        }
    }

    /**
     * Makes an existing socket carry {@code state}, keeping its descriptor, open file and epoll
     * registrations: the application sees the same fd continue. Works on a detached socket and on
     * a live one (which is first disconnected silently). The caller has blocked the flow and
     * frozen the owner.
     *
     * <p>A peer FIN is delivered by a raw packet over loopback (see {@link FinInjector}); a
     * firewall that blocks the flow must let loopback traffic through. Call this on a thread
     * inside the socket's network namespace: when there is a FIN to deliver, a call from another
     * namespace is refused before the socket is touched.
     */
    public static void conformInPlace(NativeSocket socket, ConnectionState state) throws IOException {
        socket.describe(state.flow());
        // Checked before anything changes: a FIN sent from the wrong namespace would be lost.
        NativeSocket finSender = state.state().finReceived() ? FinInjector.openFor(socket, state, 0) : null;
        try {
            enterRepairMode(socket);
            socket.disconnect();
            clearPendingError(socket);
            bind(socket, state.local(), true);
            rebuild(socket, state, finSender, false);
        } finally {
            if (finSender != null) {
                finSender.close();
            }
        }
    }

    /**
     * The common path of restore and conform: the socket is in repair mode and in CLOSE, bound.
     * Order matters: queue sequences can only be set in CLOSE; TCP_MAXSEG before connect sets
     * the MSS cache (otherwise 524-byte segments); options before any byte is queued; the window
     * after the queues; unsent bytes after repair mode, so that they go out as new data.
     *
     * <p>The receive queue is selected last and stays selected until its refill: the selection
     * only matters to send, recv, TCP_QUEUE_SEQ and the transmission of queued bytes, and none
     * of these happens in between (nothing is queued yet), so no TCP_NO_QUEUE and no second
     * selection are needed there.
     *
     * @param freshSocket whether {@code socket} was created for this (its options are the defaults)
     */
    private static void rebuild(NativeSocket socket, ConnectionState state, NativeSocket finSender,
            boolean freshSocket) throws IOException {
        socket.setInt(SockOpt.TCP_REPAIR_QUEUE, TCP_SEND_QUEUE);
        socket.setInt(SockOpt.TCP_QUEUE_SEQ, state.sendQueueSeq());
        socket.setInt(SockOpt.TCP_REPAIR_QUEUE, TCP_RECV_QUEUE);
        socket.setInt(SockOpt.TCP_QUEUE_SEQ, state.receiveQueueSeq());
        if (state.mssClamp() > 0) {
            socket.setInt(SockOpt.TCP_MAXSEG, Math.min(state.mssClamp(), MAX_SETTABLE_MSS));
        }
        socket.connect(state.remote());
        socket.setBytes(SockOpt.TCP_REPAIR_OPTIONS, repairOptions(state));
        if (state.timestamps()) {
            socket.setInt(SockOpt.TCP_TIMESTAMP, state.tsVal());
        }
        makeRoomForQueues(socket, state);
        refill(socket, state.received()); // the receive queue is still selected
        if (state.unacked().length > 0) {
            socket.setInt(SockOpt.TCP_REPAIR_QUEUE, TCP_SEND_QUEUE);
            refill(socket, state.unacked());
        }
        socket.setInt(SockOpt.TCP_REPAIR_QUEUE, TCP_NO_QUEUE);
        RepairWindow window = state.window();
        int restoredRcvNxt = state.rcvNxt() - (state.state().finReceived() ? 1 : 0);
        if (window.rcvWup() - restoredRcvNxt > 0) {
            // rcv_wup may not be after rcv_nxt; with the peer's FIN left out, rcv_nxt is one short.
            window = window.withRcvWup(restoredRcvNxt);
        }
        if (window.sndWl1() - (restoredRcvNxt + window.rcvWnd()) > 0) {
            // snd_wl1 may not be after rcv_nxt + rcv_wnd. It can be, when our window was closed (a
            // full spool) and a peer segment whose data was refused still updated the send window.
            // snd_wl1 only decides whether a later window update is newer: an older value is safe.
            window = window.withSndWl1(restoredRcvNxt);
        }
        socket.setBytes(SockOpt.TCP_REPAIR_WINDOW, window.encode());
        // Leaving repair mode with a window probe makes the peer answer at once, which gives the
        // restored socket an RTT sample and the peer's current window.
        socket.setInt(SockOpt.TCP_REPAIR, LibC.TCP_REPAIR_OFF);
        writeUnsent(socket, state.unsent());
        applyOptions(socket, state.options(), freshSocket);
        if (state.state().finSent()) {
            socket.shutdown(LibC.SHUT_WR);
        }
        if (finSender != null) {
            FinInjector.injectPeerFin(finSender, state);
        }
    }

    private static void bind(NativeSocket socket, InetSocketAddress local, boolean mayBeBound) throws SyscallException {
        try {
            socket.bind(local);
        } catch (SyscallException e) {
            // An accepted socket keeps its port through a repair disconnect and refuses a second
            // bind with EINVAL; that is fine only if it is still bound where the state says.
            if (!mayBeBound || e.errno() != Errno.EINVAL || !local.equals(socket.localAddress())) {
                throw e;
            }
        }
    }

    private static byte[] repairOptions(ConnectionState state) {
        int count = 1 + (state.windowScaling() ? 1 : 0) + (state.sackPermitted() ? 1 : 0) + (state.timestamps() ? 1 : 0);
        byte[] raw = new byte[count * 8];
        int at = 0;
        at = putOption(raw, at, LibC.TCPOPT_MAXSEG, state.mssClamp());
        if (state.windowScaling()) {
            at = putOption(raw, at, LibC.TCPOPT_WINDOW, state.sndWscale() | state.rcvWscale() << 16);
        }
        if (state.sackPermitted()) {
            at = putOption(raw, at, LibC.TCPOPT_SACK_PERM, 0);
        }
        if (state.timestamps()) {
            putOption(raw, at, LibC.TCPOPT_TIMESTAMP, 0);
        }
        return raw;
    }

    private static int putOption(byte[] raw, int at, int code, int value) {
        RepairWindow.put32(raw, at, code);
        RepairWindow.put32(raw, at + 4, value);
        return at + 8;
    }

    /**
     * The kernel charges queued bytes against the socket's buffers, and refuses a refill that does
     * not fit. Raising a buffer turns off its autotuning, so it is done only when the queue needs it.
     */
    private static void makeRoomForQueues(NativeSocket socket, ConnectionState state) throws SyscallException {
        int receiveNeed = state.received().length;
        if (receiveNeed > 0 && socket.getInt(SockOpt.SO_RCVBUF) < 4 * receiveNeed) {
            socket.setInt(SockOpt.SO_RCVBUFFORCE, 2 * receiveNeed + 64 * 1024);
        }
        int sendNeed = state.unacked().length + state.unsent().length;
        if (sendNeed > 0 && socket.getInt(SockOpt.SO_SNDBUF) < 4 * sendNeed) {
            socket.setInt(SockOpt.SO_SNDBUFFORCE, 2 * sendNeed + 64 * 1024);
        }
    }

    /** Writes {@code bytes} into the selected queue in repair mode, in chunks the kernel accepts. */
    private static void refill(NativeSocket socket, byte[] bytes) throws SyscallException {
        int chunk = REFILL_CHUNK;
        int offset = 0;
        while (offset < bytes.length) {
            int length = Math.min(chunk, bytes.length - offset);
            byte[] piece = offset == 0 && length == bytes.length ? bytes : Arrays.copyOfRange(bytes, offset, offset + length);
            try {
                offset += socket.send(piece, length, MSG_DONTWAIT | MSG_NOSIGNAL);
            } catch (SyscallException.OutOfKernelMemoryException e) {
                if (chunk <= MIN_REFILL_CHUNK) {
                    throw e;
                }
                chunk /= 2;
            }
        }
    }

    private static void writeUnsent(NativeSocket socket, byte[] unsent) throws SyscallException {
        int offset = 0;
        long deadline = System.nanoTime() + UNSENT_WRITE_TIMEOUT_MS * 1_000_000L;
        while (offset < unsent.length) {
            byte[] piece = offset == 0 ? unsent : Arrays.copyOfRange(unsent, offset, unsent.length);
            try {
                offset += socket.send(piece, piece.length, MSG_DONTWAIT | MSG_NOSIGNAL);
            } catch (SyscallException.WouldBlockException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                socket.poll(LibC.POLLOUT, 100);
            }
        }
    }

    /**
     * The buffer sizes are not read (recorded as 0, see {@link SocketOptions}): nothing applies
     * them, and the two calls were a tenth of a dump.
     */
    private static SocketOptions readOptions(NativeSocket socket) throws SyscallException {
        return new SocketOptions(
                socket.getInt(SockOpt.TCP_NODELAY) != 0,
                socket.getInt(SockOpt.SO_KEEPALIVE) != 0,
                socket.getInt(SockOpt.TCP_KEEPIDLE),
                socket.getInt(SockOpt.TCP_KEEPINTVL),
                socket.getInt(SockOpt.TCP_KEEPCNT),
                socket.getInt(SockOpt.TCP_USER_TIMEOUT),
                0,
                0);
    }

    /**
     * On a fresh socket, nodelay off, user timeout 0 and keepalive off are what the kernel set at
     * creation, so those three are written only when they differ. An existing socket (conform in
     * place) gets every value: its current ones are not known. Keepalive idle, interval and count
     * are always written: the dump reads the effective values, and a default one follows the
     * namespace's sysctl, which may differ where the copy lives; a copy that does not carry the
     * value would hand back its own namespace's value at the next dump.
     */
    private static void applyOptions(NativeSocket socket, SocketOptions options, boolean freshSocket)
            throws SyscallException {
        if (options.noDelay() || !freshSocket) {
            socket.setInt(SockOpt.TCP_NODELAY, options.noDelay() ? 1 : 0);
        }
        if (options.keepIdleSeconds() > 0) {
            socket.setInt(SockOpt.TCP_KEEPIDLE, options.keepIdleSeconds());
        }
        if (options.keepIntervalSeconds() > 0) {
            socket.setInt(SockOpt.TCP_KEEPINTVL, options.keepIntervalSeconds());
        }
        if (options.keepCount() > 0) {
            socket.setInt(SockOpt.TCP_KEEPCNT, options.keepCount());
        }
        if (options.userTimeoutMillis() != 0 || !freshSocket) {
            socket.setInt(SockOpt.TCP_USER_TIMEOUT, options.userTimeoutMillis());
        }
        if (options.keepAlive() || !freshSocket) {
            socket.setInt(SockOpt.SO_KEEPALIVE, options.keepAlive() ? 1 : 0);
        }
    }

    /** Reads one queue in repair mode: asking one byte more than expected proves the length exact. */
    private static byte[] peekQueue(NativeSocket socket, int expected, String which) throws SyscallException {
        if (expected <= 0) {
            return new byte[0];
        }
        byte[] buffer = new byte[expected + 1];
        int n;
        try {
            n = socket.recv(buffer, buffer.length, MSG_PEEK | MSG_DONTWAIT);
        } catch (SyscallException.WouldBlockException e) {
            n = 0;
        }
        if (n > expected) {
            throw new IllegalStateException(which + " queue of " + socket + " grew during the dump: is the owner frozen?");
        }
        return Arrays.copyOf(buffer, n);
    }

    /** A repair-mode disconnect leaves ECONNABORTED pending; reading SO_ERROR once clears it. */
    private static void clearPendingError(NativeSocket socket) throws SyscallException {
        int pending = socket.getInt(SockOpt.SO_ERROR);
        if (pending != 0 && pending != Errno.ECONNABORTED) {
            throw SyscallException.of("SO_ERROR after repair disconnect of " + socket, pending);
        }
    }

    private static void resumeAfterFailure(NativeSocket socket, Exception failure) {
        try {
            resume(socket);
        } catch (SyscallException e) {
            failure.addSuppressed(e);
        }
    }
}
