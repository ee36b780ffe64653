package org.tcpferry.sys;

import com.sun.jna.Native;
import java.io.Closeable;
import java.net.InetSocketAddress;

/**
 * One socket file descriptor and the flow it carries, with one method per libc call made on it.
 * Every method checks the result once and turns errno into a {@link SyscallException} whose
 * message names the call, its arguments and the flow ({@link #describe}).
 *
 * <p>A NativeSocket either owns its descriptor ({@link #open}, {@link #accept}) or adopts one
 * that somebody else opened ({@link #adopt}); {@link #close} closes it in both cases. It is not
 * thread-safe: one thread at a time acts on a socket.
 */
public final class NativeSocket implements Closeable {
    private final int fd;
    private String flow;
    private boolean closed;
    /** AF_INET or AF_INET6 once known; 0 until asked for an adopted descriptor. */
    private int family;
    /**
     * True from a successful TCP_REPAIR on through this object until it turns repair off: the
     * socket is then known to be in repair mode, and the repair engine need not set it again.
     * False also when unknown (an adopted descriptor may be in repair mode already).
     */
    private boolean repairOn;
    /** Opened elsewhere: an application's socket, whose SO_REUSEADDR repair mode must not change. */
    private final boolean adopted;
    /**
     * SO_REUSEADDR as it was before this object turned repair mode on, -1 when not known. Repair
     * mode overrides the option and turning it off clears it (the kernel sets sk_reuse to 2, then
     * 0): an application's socket that had it set would lose it, and a later bind of its port
     * by the application could then fail with EADDRINUSE. It is set again when repair mode ends.
     */
    private int reuseAddressBeforeRepair = -1;

    private NativeSocket(int fd, String flow, int family, boolean adopted) {
        this.fd = fd;
        this.flow = flow;
        this.family = family;
        this.adopted = adopted;
    }

    /** socket(2) with SOCK_CLOEXEC, so that no child process inherits a held connection. */
    public static NativeSocket open(int family, int type, int protocol) throws SyscallException {
        int fd = LibC.socket(family, type | LibC.SOCK_CLOEXEC, protocol);
        if (fd < 0) {
            throw SyscallException.of("socket(" + familyName(family) + ", type " + type + ", protocol " + protocol + ")",
                    Native.getLastError());
        }
        return new NativeSocket(fd, null, family, false);
    }

    /** A blocking TCP socket of {@code family} ({@link LibC#AF_INET} or {@link LibC#AF_INET6}). */
    public static NativeSocket tcp(int family) throws SyscallException {
        return open(family, LibC.SOCK_STREAM, LibC.IPPROTO_TCP);
    }

    /** Wraps a descriptor opened elsewhere (a pidfd_getfd duplicate, an inherited fd). */
    public static NativeSocket adopt(int fd, String flow) {
        return new NativeSocket(fd, flow, 0, true);
    }

    /**
     * Wraps a descriptor opened elsewhere whose address family the caller already knows (sock_diag
     * reports it), which saves the SO_DOMAIN read of the first bind or connect; 0 when unknown.
     */
    public static NativeSocket adopt(int fd, String flow, int family) {
        if (family != 0 && family != LibC.AF_INET && family != LibC.AF_INET6) {
            throw new IllegalArgumentException("an IP socket is AF_INET or AF_INET6, not " + familyName(family));
        }
        return new NativeSocket(fd, flow, family, true);
    }

    public int fd() {
        return fd;
    }

    /** The socket's address family (SO_DOMAIN), read once for an adopted descriptor. */
    public int family() throws SyscallException {
        if (family == 0) {
            family = getInt(SockOpt.SO_DOMAIN);
        }
        return family;
    }

    /** Names the flow in every later error, e.g. {@code 10.0.0.2:5000->10.0.0.1:40000}. */
    public NativeSocket describe(String flow) {
        this.flow = flow;
        return this;
    }

    public String flow() {
        return flow;
    }

    public void bind(InetSocketAddress address) throws SyscallException {
        byte[] sa = SockAddr.encode(address, family());
        if (LibC.bind(fd, sa, sa.length) < 0) {
            throw fail("bind", SockAddr.format(address));
        }
    }

    /** A blocking connect(2); in repair mode it moves the socket to ESTABLISHED without a SYN. */
    public void connect(InetSocketAddress address) throws SyscallException {
        byte[] sa = SockAddr.encode(address, family());
        if (LibC.connect(fd, sa, sa.length) < 0) {
            throw fail("connect", SockAddr.format(address));
        }
    }

    /** connect(AF_UNSPEC): in repair mode a silent move to CLOSE; otherwise the kernel sends RST. */
    public void disconnect() throws SyscallException {
        byte[] sa = SockAddr.unspecified();
        if (LibC.connect(fd, sa, sa.length) < 0) {
            throw fail("connect", "AF_UNSPEC");
        }
    }

    public void listen(int backlog) throws SyscallException {
        if (LibC.listen(fd, backlog) < 0) {
            throw fail("listen", Integer.toString(backlog));
        }
    }

    public NativeSocket accept() throws SyscallException {
        int child = LibC.accept4(fd, null, null, LibC.SOCK_CLOEXEC);
        if (child < 0) {
            throw fail("accept4", "SOCK_CLOEXEC");
        }
        return new NativeSocket(child, null, family, false);
    }

    public InetSocketAddress localAddress() throws SyscallException {
        byte[] sa = new byte[SockAddr.MAX_LEN];
        int[] len = {sa.length};
        if (LibC.getsockname(fd, sa, len) < 0) {
            throw fail("getsockname", "");
        }
        return SockAddr.decode(sa, len[0]);
    }

    public InetSocketAddress remoteAddress() throws SyscallException {
        byte[] sa = new byte[SockAddr.MAX_LEN];
        int[] len = {sa.length};
        if (LibC.getpeername(fd, sa, len) < 0) {
            throw fail("getpeername", "");
        }
        return SockAddr.decode(sa, len[0]);
    }

    /** The socket's inode, as sock_diag and /proc/PID/fd name it (fstat's st_ino). */
    public long inode() throws SyscallException {
        byte[] stat = new byte[256];
        if (LibC.fstat(fd, stat) < 0) {
            throw fail("fstat", "");
        }
        long inode = 0;
        for (int k = 15; k >= 8; k--) { // st_ino, little-endian at byte 8 on x86-64 and aarch64
            inode = inode << 8 | (stat[k] & 0xff);
        }
        return inode;
    }

    public int getInt(SockOpt option) throws SyscallException {
        byte[] value = new byte[4];
        int[] len = {4};
        if (LibC.getsockopt(fd, option.level, option.number, value, len) < 0) {
            throw fail("getsockopt", option.name());
        }
        return (value[0] & 0xff) | (value[1] & 0xff) << 8 | (value[2] & 0xff) << 16 | (value[3] & 0xff) << 24;
    }

    public void setInt(SockOpt option, int value) throws SyscallException {
        boolean repairStarts = option == SockOpt.TCP_REPAIR && value == LibC.TCP_REPAIR_ON && !repairOn;
        if (repairStarts && adopted && reuseAddressBeforeRepair < 0) {
            reuseAddressBeforeRepair = getInt(SockOpt.SO_REUSEADDR);
        }
        byte[] raw = {(byte) value, (byte) (value >>> 8), (byte) (value >>> 16), (byte) (value >>> 24)};
        if (LibC.setsockopt(fd, option.level, option.number, raw, 4) < 0) {
            throw fail("setsockopt", option.name() + ", " + value);
        }
        if (option == SockOpt.TCP_REPAIR) {
            repairOn = value == LibC.TCP_REPAIR_ON;
            if (!repairOn && reuseAddressBeforeRepair >= 0) {
                int before = reuseAddressBeforeRepair;
                reuseAddressBeforeRepair = -1;
                if (before == 1) {
                    setInt(SockOpt.SO_REUSEADDR, 1);
                }
            }
        }
    }

    /**
     * Whether TCP_REPAIR was last set on through this object (and not off since). Only a lower
     * bound: false says nothing about a descriptor someone else put in repair mode.
     */
    public boolean knownInRepairMode() {
        return repairOn && !closed;
    }

    /** getsockopt(2) of a struct; returns the bytes the kernel wrote (possibly fewer than asked). */
    public byte[] getBytes(SockOpt option, int maxLength) throws SyscallException {
        byte[] value = new byte[maxLength];
        int[] len = {maxLength};
        if (LibC.getsockopt(fd, option.level, option.number, value, len) < 0) {
            throw fail("getsockopt", option.name() + ", " + maxLength + " bytes");
        }
        return len[0] == maxLength ? value : java.util.Arrays.copyOf(value, len[0]);
    }

    public void setBytes(SockOpt option, byte[] value) throws SyscallException {
        if (LibC.setsockopt(fd, option.level, option.number, value, value.length) < 0) {
            throw fail("setsockopt", option.name() + ", " + value.length + " bytes");
        }
    }

    /** send(2) of {@code buf[0..len)}; returns the count sent. */
    public int send(byte[] buf, int len, int flags) throws SyscallException {
        long n = LibC.send(fd, buf, len, flags);
        if (n < 0) {
            throw fail("send", len + " bytes, flags 0x" + Integer.toHexString(flags));
        }
        return (int) n;
    }

    /** recv(2) into {@code buf[0..len)}; returns the count received, 0 at end of stream. */
    public int recv(byte[] buf, int len, int flags) throws SyscallException {
        long n = LibC.recv(fd, buf, len, flags);
        if (n < 0) {
            throw fail("recv", len + " bytes, flags 0x" + Integer.toHexString(flags));
        }
        return (int) n;
    }

    public int sendTo(byte[] buf, int len, InetSocketAddress to) throws SyscallException {
        byte[] sa = SockAddr.encode(to);
        long n = LibC.sendto(fd, buf, len, 0, sa, sa.length);
        if (n < 0) {
            throw fail("sendto", len + " bytes to " + SockAddr.format(to));
        }
        return (int) n;
    }

    public void shutdown(int how) throws SyscallException {
        if (LibC.shutdown(fd, how) < 0) {
            throw fail("shutdown", how == LibC.SHUT_WR ? "SHUT_WR" : Integer.toString(how));
        }
    }

    /** An ioctl(2) that reads one int, such as SIOCINQ; {@code name} is the request's C name. */
    public int ioctlInt(long request, String name) throws SyscallException {
        int[] value = new int[1];
        if (LibC.ioctl(fd, request, value) < 0) {
            throw fail("ioctl", name);
        }
        return value[0];
    }

    /** poll(2) on this socket alone; returns revents, 0 on timeout. */
    public int poll(short events, int timeoutMillis) throws SyscallException {
        byte[] pollfd = new byte[8];
        pollfd[0] = (byte) fd;
        pollfd[1] = (byte) (fd >>> 8);
        pollfd[2] = (byte) (fd >>> 16);
        pollfd[3] = (byte) (fd >>> 24);
        pollfd[4] = (byte) events;
        pollfd[5] = (byte) (events >>> 8);
        int n;
        do {
            n = LibC.poll(pollfd, 1, timeoutMillis);
        } while (n < 0 && Native.getLastError() == Errno.EINTR);
        if (n < 0) {
            throw fail("poll", "events 0x" + Integer.toHexString(events) + ", " + timeoutMillis + " ms");
        }
        return n == 0 ? 0 : (pollfd[6] & 0xff) | (pollfd[7] & 0xff) << 8;
    }

    public boolean isClosed() {
        return closed;
    }

    /** close(2), once; later calls do nothing. */
    @Override
    public void close() throws SyscallException {
        if (closed) {
            return;
        }
        closed = true;
        if (LibC.close(fd) < 0) {
            throw fail("close", "");
        }
    }

    @Override
    public String toString() {
        return "fd " + fd + (flow == null ? "" : " " + flow);
    }

    private SyscallException fail(String call, String args) {
        int errno = Native.getLastError();
        String what = call + "(fd " + fd + (args.isEmpty() ? "" : ", " + args) + ")" + (flow == null ? "" : " on " + flow);
        return SyscallException.of(what, errno);
    }

    static String familyName(int family) {
        switch (family) {
            case LibC.AF_INET: return "AF_INET";
            case LibC.AF_INET6: return "AF_INET6";
            case LibC.AF_NETLINK: return "AF_NETLINK";
            case LibC.AF_PACKET: return "AF_PACKET";
            case LibC.AF_UNIX: return "AF_UNIX";
            default: return "family " + family;
        }
    }
}
