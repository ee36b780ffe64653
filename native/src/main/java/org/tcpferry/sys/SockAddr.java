package org.tcpferry.sys;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * Encodes and decodes {@code struct sockaddr_in} and {@code struct sockaddr_in6}.
 *
 * <pre>
 * struct sockaddr_in  { sa_family_t family; in_port_t port (BE); struct in_addr addr; char zero[8]; }   16 bytes
 * struct sockaddr_in6 { sa_family_t family; in_port_t port (BE); uint32_t flowinfo; struct in6_addr addr;
 *                       uint32_t scope_id; }                                                            28 bytes
 * </pre>
 */
public final class SockAddr {
    /** Large enough for either family. */
    public static final int MAX_LEN = 28;

    private SockAddr() {}

    public static int family(InetAddress address) {
        return address instanceof Inet6Address ? LibC.AF_INET6 : LibC.AF_INET;
    }

    public static byte[] encode(InetSocketAddress address) {
        return encode(address, family(address.getAddress()));
    }

    /**
     * Encodes {@code address} for a socket of {@code socketFamily}. An IPv4 address given to an
     * AF_INET6 socket becomes the IPv4-mapped {@code ::ffff:a.b.c.d}: that is how a dual-stack
     * socket (one listening on {@code ::}, say) carries an IPv4 flow, and the kernel reports such
     * a flow back as IPv4 through {@link #decode}.
     */
    public static byte[] encode(InetSocketAddress address, int socketFamily) {
        InetAddress ip = address.getAddress();
        if (socketFamily == LibC.AF_INET6 && ip instanceof Inet4Address) {
            byte[] mapped = new byte[16];
            mapped[10] = (byte) 0xff;
            mapped[11] = (byte) 0xff;
            System.arraycopy(ip.getAddress(), 0, mapped, 12, 4);
            try {
                ip = Inet6Address.getByAddress(null, mapped, -1);
            } catch (UnknownHostException impossible) {
                throw new IllegalStateException(impossible);
            }
        }
        byte[] raw = ip.getAddress();
        byte[] out = new byte[ip instanceof Inet4Address ? 16 : 28];
        int family = family(ip);
        out[0] = (byte) family; // little-endian host order, family < 256
        out[2] = (byte) (address.getPort() >>> 8);
        out[3] = (byte) address.getPort();
        if (ip instanceof Inet4Address) {
            System.arraycopy(raw, 0, out, 4, 4);
        } else {
            System.arraycopy(raw, 0, out, 8, 16);
            int scope = ((Inet6Address) ip).getScopeId();
            out[24] = (byte) scope;
            out[25] = (byte) (scope >>> 8);
            out[26] = (byte) (scope >>> 16);
            out[27] = (byte) (scope >>> 24);
        }
        return out;
    }

    /**
     * {@code address} as getsockname(2) and getpeername(2) report it through {@link #decode}: an
     * IPv6 address without its scope id (sock_diag gives a link-local one its interface's).
     */
    public static InetSocketAddress unscoped(InetSocketAddress address) {
        if (!(address.getAddress() instanceof Inet6Address ip) || ip.getScopeId() == 0 && ip.getScopedInterface() == null) {
            return address;
        }
        try {
            return new InetSocketAddress(InetAddress.getByAddress(ip.getAddress()), address.getPort());
        } catch (UnknownHostException impossible) {
            throw new IllegalStateException(impossible);
        }
    }

    /** The {@code AF_UNSPEC} address that, given to connect(2), disconnects a socket. */
    public static byte[] unspecified() {
        return new byte[16];
    }

    public static InetSocketAddress decode(byte[] buf, int len) {
        int family = (buf[0] & 0xff) | (buf[1] & 0xff) << 8;
        int port = (buf[2] & 0xff) << 8 | (buf[3] & 0xff);
        try {
            if (family == LibC.AF_INET && len >= 8) {
                return new InetSocketAddress(InetAddress.getByAddress(java.util.Arrays.copyOfRange(buf, 4, 8)), port);
            }
            if (family == LibC.AF_INET6 && len >= 24) {
                return new InetSocketAddress(InetAddress.getByAddress(java.util.Arrays.copyOfRange(buf, 8, 24)), port);
            }
        } catch (UnknownHostException impossible) {
            throw new IllegalStateException(impossible);
        }
        throw new IllegalArgumentException("not an IPv4 or IPv6 socket address: family " + family + ", length " + len);
    }

    /** {@code 10.0.0.2:5000} or {@code [fd00::2]:5000}. */
    public static String format(InetSocketAddress address) {
        InetAddress ip = address.getAddress();
        String host = ip.getHostAddress();
        int percent = host.indexOf('%');
        if (percent >= 0) {
            host = host.substring(0, percent);
        }
        return (ip instanceof Inet6Address ? "[" + host + "]" : host) + ":" + address.getPort();
    }
}
