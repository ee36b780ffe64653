package org.tcpferry.diag;

import java.net.InetSocketAddress;
import org.tcpferry.repair.TcpState;
import org.tcpferry.sys.SockAddr;

/**
 * One TCP socket as sock_diag reports it.
 *
 * <p>Addresses are decoded like {@link SockAddr#decode}: an IPv4-mapped address of an AF_INET6
 * socket ({@code ::ffff:10.0.0.1}) comes back as the IPv4 address, so that the flow names match
 * what getsockname(2) gives through {@code NativeSocket}. A link-local IPv6 address carries the
 * socket's interface as scope id.
 *
 * @param state    the kernel's TCP state; request sockets of a handshake show as SYN_RECV
 * @param local    local address and port ({@code idiag_src}, {@code idiag_sport})
 * @param remote   peer address and port; the wildcard address and port 0 for a listener
 * @param inode    the socket's inode, the {@code N} of {@code socket:[N]} in {@code /proc/PID/fd};
 *                 0 when no file refers to it any more (TIME_WAIT, closed orphans, request sockets)
 * @param uid      the owner's uid as seen from the querying user namespace
 * @param cgroupId the cgroup v2 id (the inode of the cgroup directory) of the socket's creator,
 *                 from {@code INET_DIAG_CGROUP_ID}; 0 if the kernel did not send it
 * @param family   the socket's address family ({@code idiag_family}): AF_INET6 also for an IPv4
 *                 flow through a mapped address, whose {@code local} and {@code remote} are IPv4
 */
public record TcpSocketInfo(TcpState state, InetSocketAddress local, InetSocketAddress remote, long inode, int uid,
        long cgroupId, int family) {

    /** {@code 10.0.0.2:5000->10.0.0.1:40000}, in the same form as {@code ConnectionState.flow()}. */
    public String flow() {
        return SockAddr.format(local) + "->" + SockAddr.format(remote);
    }

    @Override
    public String toString() {
        return flow() + " " + state + " inode " + inode + " uid " + uid + (cgroupId == 0 ? "" : " cgroup " + cgroupId);
    }
}
