package org.tcpferry.protocol;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads the fields {@link WireWriter} writes, checking every length against the bytes that are
 * actually left, so that a hostile or corrupt payload ends in a {@link ProtocolException}
 * (MALFORMED, naming the field) and never in an index error or a huge allocation.
 */
public final class WireReader {
    private final byte[] buf;
    private final int limit;
    private int pos;

    public WireReader(byte[] buf) {
        this.buf = buf;
        this.pos = 0;
        this.limit = buf.length;
    }

    public int remaining() {
        return limit - pos;
    }

    public int u8(String field) throws ProtocolException {
        need(1, field);
        return buf[pos++] & 0xff;
    }

    public int u16(String field) throws ProtocolException {
        need(2, field);
        int v = (buf[pos] & 0xff) << 8 | (buf[pos + 1] & 0xff);
        pos += 2;
        return v;
    }

    /** 32 bits as an int; use {@link #length} for counts and sizes. */
    public int u32(String field) throws ProtocolException {
        need(4, field);
        int v = (buf[pos] & 0xff) << 24 | (buf[pos + 1] & 0xff) << 16 | (buf[pos + 2] & 0xff) << 8 | (buf[pos + 3] & 0xff);
        pos += 4;
        return v;
    }

    public long i64(String field) throws ProtocolException {
        long high = u32(field) & 0xffffffffL;
        long low = u32(field) & 0xffffffffL;
        return high << 32 | low;
    }

    /** A byte that must be 0 or 1. */
    public boolean bool(String field) throws ProtocolException {
        int v = u8(field);
        if (v > 1) {
            throw malformed(field + ": boolean byte is " + v);
        }
        return v == 1;
    }

    /**
     * A u32 count of items that take at least {@code minItemSize} bytes each; refused when the
     * payload cannot possibly hold that many, which bounds every allocation by the payload size.
     */
    public int count(String field, int minItemSize) throws ProtocolException {
        long n = u32(field) & 0xffffffffL;
        if (n * Math.max(1, minItemSize) > remaining()) {
            throw malformed(field + ": count " + n + " exceeds the " + remaining() + " bytes left");
        }
        return (int) n;
    }

    /** A u32 length and that many bytes. */
    public byte[] bytes(String field) throws ProtocolException {
        return raw(field, count(field, 1));
    }

    /** Exactly {@code n} bytes. */
    public byte[] raw(String field, int n) throws ProtocolException {
        need(n, field);
        byte[] out = Arrays.copyOfRange(buf, pos, pos + n);
        pos += n;
        return out;
    }

    /** A u32 length and that many bytes of valid UTF-8. */
    public String string(String field) throws ProtocolException {
        byte[] utf8 = bytes(field);
        if (isAscii(utf8)) {
            return new String(utf8, StandardCharsets.US_ASCII); // the common case needs no strict decoder
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(utf8))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new ProtocolException(ErrorCode.MALFORMED, field + ": invalid UTF-8", e);
        }
    }

    private static boolean isAscii(byte[] bytes) {
        for (byte b : bytes) {
            if (b < 0) {
                return false;
            }
        }
        return true;
    }

    /** The layout of {@link WireWriter#socketAddress}. */
    public InetSocketAddress socketAddress(String field) throws ProtocolException {
        int family = u8(field + ".family");
        try {
            if (family == WireWriter.FAMILY_INET4) {
                byte[] ip = raw(field + ".address", 4);
                return new InetSocketAddress(Inet4Address.getByAddress(ip), u16(field + ".port"));
            }
            if (family == WireWriter.FAMILY_INET6) {
                byte[] ip = raw(field + ".address", 16);
                int scope = u32(field + ".scope");
                if (scope < 0) {
                    // Interface indexes are small; Inet6Address cannot hold a scope id above 2^31 - 1.
                    throw malformed(field + ": scope id " + Integer.toUnsignedString(scope) + " out of range");
                }
                // Inet6Address.getByAddress keeps IPv4-mapped addresses as IPv6, unlike InetAddress.getByAddress.
                // Scope 0 means none: an address with a set scope of 0 prints as "fd77::2%0",
                // which tools such as nft refuse. A negative scope leaves it unset.
                return new InetSocketAddress(Inet6Address.getByAddress(null, ip, scope == 0 ? -1 : scope),
                        u16(field + ".port"));
            }
        } catch (UnknownHostException e) {
            throw new ProtocolException(ErrorCode.MALFORMED, field + ": bad address", e);
        }
        throw malformed(field + ": unknown address family " + family);
    }

    /** Refuses bytes left over after the last field: a payload is exactly its fields. */
    public void expectEnd(String what) throws ProtocolException {
        if (remaining() != 0) {
            throw malformed(what + ": " + remaining() + " trailing bytes");
        }
    }

    private void need(int n, String field) throws ProtocolException {
        if (n < 0 || n > remaining()) {
            throw malformed(field + ": needs " + n + " bytes, " + remaining() + " left");
        }
    }

    private static ProtocolException malformed(String message) {
        return new ProtocolException(ErrorCode.MALFORMED, message);
    }
}
