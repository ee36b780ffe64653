package org.tcpferry.diag;

import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.tcpferry.repair.TcpState;
import org.tcpferry.sys.LibC;

/**
 * Lists the TCP sockets of the calling thread's network namespace through NETLINK_SOCK_DIAG, the
 * interface behind {@code ss -t}. It needs no privilege, and costs one netlink dump per address
 * family whatever the number of sockets (no /proc/net/tcp text to parse).
 *
 * <p>The netlink socket is created on the calling thread, and a netlink socket reports the
 * namespace it was created in. For another namespace, run the call there:
 * <pre>{@code
 * List<TcpSocketInfo> guest = NetNamespace.named("guest")
 *         .call(() -> SocketDiag.listTcp(EnumSet.of(TcpState.ESTABLISHED)));
 * }</pre>
 *
 * <p>What the kernel reports, and so what this returns: sockets in the requested states, each
 * once, in hash-table order. Unbound or bound-but-unconnected sockets (state CLOSE) do not appear.
 * TIME_WAIT sockets and sockets already closed by their owner (orphans finishing their FIN
 * handshake) have inode 0. The request is answered from a snapshot per hash bucket, not an atomic
 * one: a socket that changes state during the dump may be missed or, rarely, seen twice.
 *
 * <p>C layouts of the request and reply are in {@link InetDiagCodec}.
 */
public final class SocketDiag {
    private SocketDiag() {}

    /** TCP sockets of both address families whose state is in {@code states}. */
    public static List<TcpSocketInfo> listTcp(Set<TcpState> states) throws IOException {
        List<TcpSocketInfo> sockets = new ArrayList<>();
        if (states.isEmpty()) {
            return sockets;
        }
        try (NetlinkSocket netlink = NetlinkSocket.open(NetlinkSocket.NETLINK_SOCK_DIAG)) {
            dump(netlink, LibC.AF_INET, states, sockets);
            dump(netlink, LibC.AF_INET6, states, sockets);
        }
        return sockets;
    }

    /** TCP sockets of both address families in any of the given states. */
    public static List<TcpSocketInfo> listTcp(TcpState first, TcpState... rest) throws IOException {
        return listTcp(EnumSet.of(first, rest));
    }

    /**
     * TCP sockets of one address family, {@link LibC#AF_INET} or {@link LibC#AF_INET6}. An AF_INET6
     * socket talking IPv4 through a mapped address is listed under AF_INET6.
     */
    public static List<TcpSocketInfo> listTcp(int family, Set<TcpState> states) throws IOException {
        if (family != LibC.AF_INET && family != LibC.AF_INET6) {
            throw new IllegalArgumentException("TCP sockets are AF_INET or AF_INET6, not family " + family);
        }
        List<TcpSocketInfo> sockets = new ArrayList<>();
        if (states.isEmpty()) {
            return sockets;
        }
        try (NetlinkSocket netlink = NetlinkSocket.open(NetlinkSocket.NETLINK_SOCK_DIAG)) {
            dump(netlink, family, states, sockets);
        }
        return sockets;
    }

    private static void dump(NetlinkSocket netlink, int family, Set<TcpState> states, List<TcpSocketInfo> into)
            throws IOException {
        String what = "sock_diag SOCK_DIAG_BY_FAMILY dump(" + (family == LibC.AF_INET ? "AF_INET" : "AF_INET6")
                + ", IPPROTO_TCP, states " + states + ")";
        byte[] request = InetDiagCodec.dumpRequest(family, InetDiagCodec.stateMask(states));
        netlink.dump(request, what, (type, payload) -> {
            if (type != InetDiagCodec.SOCK_DIAG_BY_FAMILY) {
                throw new IOException(what + ": unexpected netlink message type " + type);
            }
            into.add(InetDiagCodec.decode(payload));
        });
    }
}
