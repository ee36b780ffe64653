package org.tcpferry.repair;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.tcpferry.sys.LibC;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.SockOpt;
import org.tcpferry.sys.SyscallException;

/**
 * Delivers the peer's FIN to a restored socket. The repair interface cannot restore a received
 * FIN, so the socket is restored one sequence number short and this sends it the FIN|ACK the peer
 * once sent, through a raw socket over loopback, from the peer's address.
 *
 * <p>The segment carries no TCP options: a TCP timestamp invented here would become ts_recent and
 * make the socket drop the peer's real segments as old (PAWS). Linux accepts a segment without a
 * timestamp on a connection that negotiated them.
 *
 * <p>With {@code mark} non-zero the raw socket marks its packet, so that the policy routing that
 * delivers a guest's steered flow to the host's copy also delivers this packet locally.
 */
final class FinInjector {
    private static final int IPV4_HEADER = 20;
    private static final int IPV6_HEADER = 40;
    private static final int TCP_HEADER = 20;
    private static final int FLAG_FIN = 0x01;
    private static final int FLAG_ACK = 0x10;

    private FinInjector() {}

    /**
     * Opens the raw socket that will deliver the FIN, in the calling thread's network namespace,
     * and refuses if that is not the namespace of {@code target}: the packet would be routed in
     * the wrong namespace, possibly out of the machine. Called before the target is changed.
     */
    static NativeSocket openFor(NativeSocket target, ConnectionState state, int mark) throws SyscallException {
        boolean v4 = state.local().getAddress() instanceof Inet4Address;
        NativeSocket raw = NativeSocket.open(v4 ? LibC.AF_INET : LibC.AF_INET6, LibC.SOCK_RAW, LibC.IPPROTO_RAW);
        raw.describe("peer FIN for " + state.flow());
        try {
            long here = netnsCookie(raw);
            long there = netnsCookie(target);
            if (here != there) {
                throw new WrongNamespaceException(state.flow(), here, there);
            }
            if (mark != 0) {
                raw.setInt(SockOpt.SO_MARK, mark);
            }
            return raw;
        } catch (SyscallException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    /** Sends the peer's FIN|ACK through {@code raw} (from {@link #openFor}) and closes it. */
    static void injectPeerFin(NativeSocket raw, ConnectionState state) throws SyscallException {
        try (raw) {
            byte[] packet = build(state);
            // For raw sockets the port field must be 0 (IPv6 reads it as a protocol number).
            raw.sendTo(packet, packet.length, new InetSocketAddress(state.local().getAddress(), 0));
        }
    }

    private static long netnsCookie(NativeSocket socket) throws SyscallException {
        byte[] raw = socket.getBytes(SockOpt.SO_NETNS_COOKIE, 8);
        long cookie = 0;
        for (int i = raw.length - 1; i >= 0; i--) {
            cookie = cookie << 8 | (raw[i] & 0xff);
        }
        return cookie;
    }

    /** The raw socket would not reach the target socket. */
    static final class WrongNamespaceException extends IllegalStateException {
        WrongNamespaceException(String flow, long here, long there) {
            super("cannot deliver the peer's FIN for " + flow + ": the calling thread is in network namespace "
                    + "cookie " + here + " but the socket is in cookie " + there
                    + "; run the restore or conform on a thread inside the socket's namespace (NetNamespace.call)");
        }
    }

    /** The IP packet: the peer's FIN|ACK at sequence rcv_nxt - 1, acknowledging snd_una. */
    static byte[] build(ConnectionState state) {
        InetAddress src = state.remote().getAddress();
        InetAddress dst = state.local().getAddress();
        boolean v4 = src instanceof Inet4Address;
        int ipHeader = v4 ? IPV4_HEADER : IPV6_HEADER;
        byte[] packet = new byte[ipHeader + TCP_HEADER];
        if (v4) {
            packet[0] = 0x45;
            put16(packet, 2, packet.length);
            put16(packet, 6, 0x4000); // don't fragment
            packet[8] = 64;
            packet[9] = (byte) LibC.IPPROTO_TCP;
            System.arraycopy(src.getAddress(), 0, packet, 12, 4);
            System.arraycopy(dst.getAddress(), 0, packet, 16, 4);
            put16(packet, 10, checksum(packet, 0, IPV4_HEADER, 0));
        } else {
            packet[0] = 0x60;
            put16(packet, 4, TCP_HEADER);
            packet[6] = (byte) LibC.IPPROTO_TCP;
            packet[7] = 64;
            System.arraycopy(src.getAddress(), 0, packet, 8, 16);
            System.arraycopy(dst.getAddress(), 0, packet, 24, 16);
        }
        int t = ipHeader;
        put16(packet, t, state.remote().getPort());
        put16(packet, t + 2, state.local().getPort());
        put32(packet, t + 4, state.rcvNxt() - 1);
        put32(packet, t + 8, state.sendQueueSeq());
        packet[t + 12] = (byte) ((TCP_HEADER / 4) << 4);
        packet[t + 13] = (byte) (FLAG_FIN | FLAG_ACK);
        int shift = state.windowScaling() ? state.sndWscale() : 0;
        put16(packet, t + 14, Math.min(0xffff, state.window().sndWnd() >>> shift));
        put16(packet, t + 16, tcpChecksum(packet, t, src.getAddress(), dst.getAddress()));
        return packet;
    }

    private static int tcpChecksum(byte[] packet, int tcpStart, byte[] src, byte[] dst) {
        int tcpLength = packet.length - tcpStart;
        byte[] pseudo = new byte[src.length * 2 + 8];
        System.arraycopy(src, 0, pseudo, 0, src.length);
        System.arraycopy(dst, 0, pseudo, src.length, dst.length);
        int at = src.length * 2;
        if (src.length == 4) {
            // IPv4 pseudo header: zero, protocol, TCP length (16 bits)
            pseudo[at + 1] = (byte) LibC.IPPROTO_TCP;
            put16(pseudo, at + 2, tcpLength);
            pseudo = java.util.Arrays.copyOf(pseudo, at + 4);
        } else {
            // IPv6 pseudo header: TCP length (32 bits), three zero bytes, next header
            put32(pseudo, at, tcpLength);
            pseudo[at + 7] = (byte) LibC.IPPROTO_TCP;
        }
        long sum = partialSum(pseudo, 0, pseudo.length, 0);
        return fold(partialSum(packet, tcpStart, tcpLength, sum));
    }

    private static int checksum(byte[] b, int off, int len, long initial) {
        return fold(partialSum(b, off, len, initial));
    }

    private static long partialSum(byte[] b, int off, int len, long sum) {
        for (int i = 0; i + 1 < len; i += 2) {
            sum += ((b[off + i] & 0xff) << 8) | (b[off + i + 1] & 0xff);
        }
        if ((len & 1) != 0) {
            sum += (b[off + len - 1] & 0xff) << 8;
        }
        return sum;
    }

    private static int fold(long sum) {
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) (~sum & 0xffff);
    }

    private static void put16(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 8);
        b[at + 1] = (byte) v;
    }

    private static void put32(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }

}
