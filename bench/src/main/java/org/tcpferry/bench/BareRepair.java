package org.tcpferry.bench;

import static org.tcpferry.sys.LibC.*;

import com.sun.jna.Native;

/**
 * The floor: the same kernel calls as the repair engine, made through the bare binding with
 * preallocated buffers, no records, no exceptions on the good path and no address objects. It
 * carries small connections (queues up to {@link #MAX_QUEUE} bytes) and exists only to measure
 * what the engine's abstraction costs on top of the syscalls. Both benchmarks use it, so their
 * floors are the same calls.
 */
public final class BareRepair {
    public static final int MAX_QUEUE = 64 * 1024;

    /** Per-connection raw state, in the arrays of one batch. */
    public static final class Batch {
        final int n;
        final byte[][] local;
        final byte[][] remote;
        final int[] sndSeq;
        final int[] rcvSeq;
        final byte[][] sendQueue;
        final byte[][] recvQueue;
        final int[] mss;
        final int[] wscale;
        final int[] tsval;
        final byte[][] window;

        public Batch(int n) {
            this.n = n;
            local = new byte[n][];
            remote = new byte[n][];
            sndSeq = new int[n];
            rcvSeq = new int[n];
            sendQueue = new byte[n][];
            recvQueue = new byte[n][];
            mss = new int[n];
            wscale = new int[n];
            tsval = new int[n];
            window = new byte[n][];
        }
    }

    private final byte[] four = new byte[4];
    private final int[] len = new int[1];
    private final int[] ioctlValue = new int[1];
    private final byte[] peek = new byte[MAX_QUEUE + 1];

    private int get(int fd, int opt) {
        len[0] = 4;
        check(getsockopt(fd, SOL_TCP, opt, four, len), "getsockopt", opt);
        return (four[0] & 0xff) | (four[1] & 0xff) << 8 | (four[2] & 0xff) << 16 | (four[3] & 0xff) << 24;
    }

    private void set(int fd, int level, int opt, int v) {
        four[0] = (byte) v;
        four[1] = (byte) (v >>> 8);
        four[2] = (byte) (v >>> 16);
        four[3] = (byte) (v >>> 24);
        check(setsockopt(fd, level, opt, four, 4), "setsockopt", opt);
    }

    private int ioctlInt(int fd, long req) {
        check(ioctl(fd, req, ioctlValue), "ioctl", (int) req);
        return ioctlValue[0];
    }

    private byte[] peekQueue(int fd, int expected) {
        if (expected == 0) {
            return new byte[0];
        }
        long n = recv(fd, peek, expected + 1, MSG_PEEK | MSG_DONTWAIT);
        check((int) n, "recv", 0);
        return java.util.Arrays.copyOf(peek, (int) n);
    }

    /** Dump + silent disconnect of connection {@code i}. */
    public void dump(int fd, Batch b, int i) {
        set(fd, SOL_TCP, TCP_REPAIR, 1);
        byte[] sa = new byte[28];
        int[] salen = {28};
        check(getsockname(fd, sa, salen), "getsockname", 0);
        b.local[i] = java.util.Arrays.copyOf(sa, salen[0]);
        salen[0] = 28;
        check(getpeername(fd, sa, salen), "getpeername", 0);
        b.remote[i] = java.util.Arrays.copyOf(sa, salen[0]);
        set(fd, SOL_TCP, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE);
        int writeSeq = get(fd, TCP_QUEUE_SEQ);
        int outq = ioctlInt(fd, SIOCOUTQ);
        ioctlInt(fd, SIOCOUTQNSD);
        b.sendQueue[i] = peekQueue(fd, outq);
        b.sndSeq[i] = writeSeq - b.sendQueue[i].length;
        set(fd, SOL_TCP, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE);
        int rcvNxt = get(fd, TCP_QUEUE_SEQ);
        int inq = ioctlInt(fd, SIOCINQ);
        b.recvQueue[i] = peekQueue(fd, inq);
        b.rcvSeq[i] = rcvNxt - b.recvQueue[i].length;
        set(fd, SOL_TCP, TCP_REPAIR_QUEUE, TCP_NO_QUEUE);
        b.mss[i] = get(fd, TCP_MAXSEG);
        byte[] info = new byte[104];
        len[0] = 104;
        check(getsockopt(fd, SOL_TCP, TCP_INFO, info, len), "getsockopt", TCP_INFO);
        b.wscale[i] = (info[6] & 0x0f) | ((info[6] & 0xf0) >>> 4) << 16;
        b.tsval[i] = get(fd, TCP_TIMESTAMP);
        byte[] w = new byte[20];
        len[0] = 20;
        check(getsockopt(fd, SOL_TCP, TCP_REPAIR_WINDOW, w, len), "getsockopt", TCP_REPAIR_WINDOW);
        b.window[i] = w;
        check(connect(fd, new byte[16], 16), "connect", 0);
        len[0] = 4;
        check(getsockopt(fd, SOL_SOCKET, SO_ERROR, four, len), "getsockopt", SO_ERROR);
    }

    /** Rebuilds connection {@code i} on {@code fd}, which is in repair mode and in CLOSE. */
    public void rebuild(int fd, Batch b, int i) {
        set(fd, SOL_TCP, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE);
        set(fd, SOL_TCP, TCP_QUEUE_SEQ, b.rcvSeq[i]);
        set(fd, SOL_TCP, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE);
        set(fd, SOL_TCP, TCP_QUEUE_SEQ, b.sndSeq[i]);
        set(fd, SOL_TCP, TCP_REPAIR_QUEUE, TCP_NO_QUEUE);
        int rc = bind(fd, b.local[i], b.local[i].length);
        if (rc < 0 && Native.getLastError() != 22) {
            check(rc, "bind", 0);
        }
        set(fd, SOL_TCP, TCP_MAXSEG, Math.min(b.mss[i], 32767));
        check(connect(fd, b.remote[i], b.remote[i].length), "connect", 1);
        byte[] opts = new byte[32];
        putOpt(opts, 0, TCPOPT_MAXSEG, b.mss[i]);
        putOpt(opts, 8, TCPOPT_WINDOW, b.wscale[i]);
        putOpt(opts, 16, TCPOPT_SACK_PERM, 0);
        putOpt(opts, 24, TCPOPT_TIMESTAMP, 0);
        check(setsockopt(fd, SOL_TCP, TCP_REPAIR_OPTIONS, opts, 32), "setsockopt", TCP_REPAIR_OPTIONS);
        set(fd, SOL_TCP, TCP_TIMESTAMP, b.tsval[i]);
        if (b.recvQueue[i].length > 0) {
            set(fd, SOL_TCP, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE);
            check((int) send(fd, b.recvQueue[i], b.recvQueue[i].length, MSG_DONTWAIT), "send", 1);
        }
        if (b.sendQueue[i].length > 0) {
            set(fd, SOL_TCP, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE);
            check((int) send(fd, b.sendQueue[i], b.sendQueue[i].length, MSG_DONTWAIT), "send", 2);
        }
        set(fd, SOL_TCP, TCP_REPAIR_QUEUE, TCP_NO_QUEUE);
        check(setsockopt(fd, SOL_TCP, TCP_REPAIR_WINDOW, b.window[i], 20), "setsockopt", TCP_REPAIR_WINDOW);
        set(fd, SOL_TCP, TCP_REPAIR, 0);
    }

    /** A new socket carrying connection {@code i}. */
    public int restore(Batch b, int i) {
        int fd = socket(b.local[i][0] == AF_INET ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        check(fd, "socket", 0);
        set(fd, SOL_TCP, TCP_REPAIR, 1);
        rebuild(fd, b, i);
        return fd;
    }

    /** In-place conform of {@code fd} to connection {@code i}. */
    public void conform(int fd, Batch b, int i) {
        set(fd, SOL_TCP, TCP_REPAIR, 1);
        check(connect(fd, new byte[16], 16), "connect", 0);
        len[0] = 4;
        check(getsockopt(fd, SOL_SOCKET, SO_ERROR, four, len), "getsockopt", SO_ERROR);
        rebuild(fd, b, i);
    }

    /** Silent close. */
    public void closeSilently(int fd) {
        set(fd, SOL_TCP, TCP_REPAIR, 1);
        check(close(fd), "close", 0);
    }

    private static void putOpt(byte[] b, int at, int code, int value) {
        for (int k = 0; k < 4; k++) {
            b[at + k] = (byte) (code >>> (8 * k));
            b[at + 4 + k] = (byte) (value >>> (8 * k));
        }
    }

    private static void check(int rc, String call, int what) {
        if (rc < 0) {
            throw new IllegalStateException(call + " " + what + ": errno " + Native.getLastError());
        }
    }
}
