package org.tcpferry.diag;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Set;
import org.tcpferry.repair.TcpState;
import org.tcpferry.sys.LibC;

/**
 * Encodes an {@code inet_diag_req_v2} dump request and decodes the {@code inet_diag_msg} replies
 * (<code>include/uapi/linux/inet_diag.h</code>). Header fields are in host byte order; ports and
 * addresses in network byte order.
 *
 * <pre>
 * struct inet_diag_sockid {            offset in sockid
 *     __be16 idiag_sport;               0
 *     __be16 idiag_dport;               2
 *     __be32 idiag_src[4];              4   (IPv4 uses idiag_src[0] only)
 *     __be32 idiag_dst[4];             20
 *     __u32  idiag_if;                 36
 *     __u32  idiag_cookie[2];          40
 * };                                   48 bytes
 *
 * struct inet_diag_req_v2 {            sent after a struct nlmsghdr of type SOCK_DIAG_BY_FAMILY (20)
 *     __u8  sdiag_family;               0   AF_INET or AF_INET6
 *     __u8  sdiag_protocol;             1   IPPROTO_TCP
 *     __u8  idiag_ext;                  2   bit (N-1) asks for attribute N, for N up to 8
 *     __u8  pad;                        3
 *     __u32 idiag_states;               4   bit S set: report sockets in TCP state S
 *     struct inet_diag_sockid id;       8   ignored by a dump
 * };                                   56 bytes
 *
 * struct inet_diag_msg {               one reply message each, type SOCK_DIAG_BY_FAMILY
 *     __u8  idiag_family;               0
 *     __u8  idiag_state;                1
 *     __u8  idiag_timer;                2
 *     __u8  idiag_retrans;              3
 *     struct inet_diag_sockid id;       4
 *     __u32 idiag_expires;             52
 *     __u32 idiag_rqueue;              56
 *     __u32 idiag_wqueue;              60
 *     __u32 idiag_uid;                 64
 *     __u32 idiag_inode;               68
 * };                                   72 bytes, followed by struct rtattr attributes
 *
 * struct rtattr { unsigned short rta_len; unsigned short rta_type; }   then the value, padded to 4 bytes
 * INET_DIAG_CGROUP_ID = 21: __u64
 * </pre>
 *
 * The kernel adds INET_DIAG_CGROUP_ID to every full socket's reply without being asked (when
 * built with CONFIG_SOCK_CGROUP_DATA): its number is above 8, so idiag_ext could not ask for it
 * anyway. The request therefore sets no idiag_ext bit.
 */
final class InetDiagCodec {
    static final int SOCK_DIAG_BY_FAMILY = 20;
    static final int INET_DIAG_CGROUP_ID = 21;

    private static final int REQUEST_LENGTH = NetlinkSocket.NLMSG_HDRLEN + 56;
    private static final int MESSAGE_LENGTH = 72;
    private static final int RTA_HDRLEN = 4;
    /** rta_type carries NLA_F_NESTED and NLA_F_NET_BYTEORDER in its top bits. */
    private static final int NLA_TYPE_MASK = 0x3fff;

    private InetDiagCodec() {}

    /** The idiag_states bitmask for {@code states}. */
    static int stateMask(Set<TcpState> states) {
        int mask = 0;
        for (TcpState state : states) {
            mask |= 1 << state.kernelValue;
        }
        return mask;
    }

    /** A complete nlmsghdr + inet_diag_req_v2 dump request; the seq field is left 0 for the sender. */
    static byte[] dumpRequest(int family, int stateMask) {
        ByteBuffer request = ByteBuffer.allocate(REQUEST_LENGTH).order(ByteOrder.nativeOrder());
        request.putInt(REQUEST_LENGTH);
        request.putShort((short) SOCK_DIAG_BY_FAMILY);
        request.putShort((short) (NetlinkSocket.NLM_F_REQUEST | NetlinkSocket.NLM_F_DUMP));
        request.putInt(0); // nlmsg_seq, set by NetlinkSocket.dump
        request.putInt(0); // nlmsg_pid: the kernel fills in our port id
        request.put((byte) family);
        request.put((byte) LibC.IPPROTO_TCP);
        request.put((byte) 0); // idiag_ext: nothing optional needed, see the class comment
        request.put((byte) 0);
        request.putInt(stateMask);
        // id stays zero: a dump does not filter by it
        return request.array();
    }

    /** Decodes one inet_diag_msg with its attributes (the payload after the nlmsghdr). */
    static TcpSocketInfo decode(ByteBuffer message) throws IOException {
        if (message.limit() < MESSAGE_LENGTH) {
            throw new IOException("inet_diag_msg of " + message.limit() + " bytes, expected at least "
                    + MESSAGE_LENGTH);
        }
        int family = Byte.toUnsignedInt(message.get(0));
        TcpState state = TcpState.ofKernel(Byte.toUnsignedInt(message.get(1)));
        int localPort = bigEndianPort(message, 4);
        int remotePort = bigEndianPort(message, 6);
        int ifIndex = message.getInt(40);
        InetAddress local = address(family, message, 8, ifIndex);
        InetAddress remote = address(family, message, 24, ifIndex);
        int uid = message.getInt(64);
        long inode = Integer.toUnsignedLong(message.getInt(68));
        long cgroupId = cgroupId(message);
        return new TcpSocketInfo(state, new InetSocketAddress(local, localPort), new InetSocketAddress(remote, remotePort),
                inode, uid, cgroupId, family);
    }

    private static int bigEndianPort(ByteBuffer message, int offset) {
        return Byte.toUnsignedInt(message.get(offset)) << 8 | Byte.toUnsignedInt(message.get(offset + 1));
    }

    private static InetAddress address(int family, ByteBuffer message, int offset, int ifIndex)
            throws IOException {
        int length = family == LibC.AF_INET ? 4 : family == LibC.AF_INET6 ? 16 : 0;
        if (length == 0) {
            throw new IOException("inet_diag_msg of address family " + family);
        }
        byte[] raw = new byte[length];
        message.get(offset, raw);
        try {
            if (length == 16 && isLinkLocal(raw) && ifIndex != 0) {
                return Inet6Address.getByAddress(null, raw, ifIndex);
            }
            // Like SockAddr.decode: an IPv4-mapped address becomes the Inet4Address.
            return InetAddress.getByAddress(raw);
        } catch (UnknownHostException impossible) {
            throw new IllegalStateException("address of " + raw.length + " bytes: " + Arrays.toString(raw), impossible);
        }
    }

    private static boolean isLinkLocal(byte[] ipv6) {
        return (ipv6[0] & 0xff) == 0xfe && (ipv6[1] & 0xc0) == 0x80;
    }

    /** The value of INET_DIAG_CGROUP_ID among the attributes after the fixed part, or 0. */
    private static long cgroupId(ByteBuffer message) throws IOException {
        int offset = MESSAGE_LENGTH;
        while (offset + RTA_HDRLEN <= message.limit()) {
            int length = Short.toUnsignedInt(message.getShort(offset));
            int type = Short.toUnsignedInt(message.getShort(offset + 2)) & NLA_TYPE_MASK;
            if (length < RTA_HDRLEN || offset + length > message.limit()) {
                throw new IOException("inet_diag_msg attribute of length " + length + " at offset " + offset
                        + " overruns the " + message.limit() + "-byte message");
            }
            if (type == INET_DIAG_CGROUP_ID && length >= RTA_HDRLEN + 8) {
                return message.getLong(offset + RTA_HDRLEN);
            }
            offset += NetlinkSocket.align4(length);
        }
        return 0;
    }
}
