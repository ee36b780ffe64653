package org.tcpferry.protocol;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Appends big-endian fields to a growing byte array: the one place that knows how each field type
 * looks on the wire, mirrored by {@link WireReader}.
 *
 * <p>Strings are written as UTF-8; an unpaired surrogate becomes '?', so that an error text with
 * odd characters can always be sent.
 */
public final class WireWriter {
    /** Address family tags: the IP version number. */
    static final int FAMILY_INET4 = 4;
    static final int FAMILY_INET6 = 6;

    private byte[] buf;
    private int size;

    public WireWriter() {
        this(64);
    }

    public WireWriter(int initialCapacity) {
        buf = new byte[Math.max(16, initialCapacity)];
    }

    /** An unsigned byte; values outside 0..255 are a bug of the caller. */
    public WireWriter u8(int value) {
        checkRange(value, 0xff, "u8");
        ensure(1);
        buf[size++] = (byte) value;
        return this;
    }

    /** An unsigned 16-bit value; values outside 0..65535 are a bug of the caller. */
    public WireWriter u16(int value) {
        checkRange(value, 0xffff, "u16");
        ensure(2);
        buf[size++] = (byte) (value >>> 8);
        buf[size++] = (byte) value;
        return this;
    }

    /** 32 bits, read back as the same int (callers choose whether it is signed). */
    public WireWriter u32(int value) {
        ensure(4);
        buf[size++] = (byte) (value >>> 24);
        buf[size++] = (byte) (value >>> 16);
        buf[size++] = (byte) (value >>> 8);
        buf[size++] = (byte) value;
        return this;
    }

    /** 64 bits, signed. */
    public WireWriter i64(long value) {
        u32((int) (value >>> 32));
        return u32((int) value);
    }

    public WireWriter bool(boolean value) {
        return u8(value ? 1 : 0);
    }

    /** A u32 length followed by the bytes. */
    public WireWriter bytes(byte[] value) {
        u32(value.length);
        return raw(value);
    }

    /** The bytes alone, for fixed-size fields whose length the reader knows. */
    public WireWriter raw(byte[] value) {
        ensure(value.length);
        System.arraycopy(value, 0, buf, size, value.length);
        size += value.length;
        return this;
    }

    /** A u32 byte length followed by the UTF-8 bytes. */
    public WireWriter string(String value) {
        return bytes(value.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * u8 family (4 or 6), the address bytes (4 or 16), for IPv6 a u32 scope id (0 for none), then
     * the u16 port. Unresolved addresses have no bytes to send and are refused.
     */
    public WireWriter socketAddress(InetSocketAddress address) {
        InetAddress ip = address.getAddress();
        if (ip == null) {
            throw new IllegalArgumentException("unresolved address cannot be encoded: " + address);
        }
        if (ip instanceof Inet4Address) {
            u8(FAMILY_INET4).raw(ip.getAddress());
        } else if (ip instanceof Inet6Address) {
            u8(FAMILY_INET6).raw(ip.getAddress()).u32(((Inet6Address) ip).getScopeId());
        } else {
            throw new IllegalArgumentException("unknown address family: " + ip.getClass().getName());
        }
        return u16(address.getPort());
    }

    public int size() {
        return size;
    }

    /** A copy of what has been written. */
    public byte[] toByteArray() {
        return Arrays.copyOf(buf, size);
    }

    private void ensure(int more) {
        if (more > buf.length - size) {
            long wanted = Math.max((long) buf.length * 2, (long) size + more);
            if (wanted > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("message too large to encode: " + wanted + " bytes");
            }
            buf = Arrays.copyOf(buf, (int) wanted);
        }
    }

    private static void checkRange(int value, int max, String type) {
        if (value < 0 || value > max) {
            throw new IllegalArgumentException(value + " does not fit in " + type);
        }
    }
}
