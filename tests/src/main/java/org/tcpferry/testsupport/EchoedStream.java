package org.tcpferry.testsupport;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.tcpferry.sys.LibC;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.SyscallException;

/**
 * The bookkeeping of a peer that sends a reproducible byte stream and checks its echo: the stream
 * (seeded, not periodic within any realistic run), what was sent and echoed so far, and SHA-256 of
 * each direction. Every echoed byte is compared with the byte sent at the same offset, so a lost,
 * duplicated or reordered byte is caught where it happens. One thread sends and receives; others
 * may read the counts and digests.
 */
public final class EchoedStream {
    private final long seed;
    private final MessageDigest sentDigest = sha256();
    private final MessageDigest echoDigest = sha256();
    private volatile long sent;
    private volatile long echoed;

    public EchoedStream(long seed) {
        this.seed = seed;
    }

    /** The byte at stream offset {@code i}. */
    public byte byteAt(long i) {
        return (byte) (((i + seed * 7919) * 2654435761L) >>> 13);
    }

    /** Fills {@code out[0..len)} with the stream's next bytes (from the offset sent so far). */
    public void fill(byte[] out, int len) {
        for (int i = 0; i < len; i++) {
            out[i] = byteAt(sent + i);
        }
    }

    /** Sends up to {@code len} of {@code out} (as {@link #fill} made it) without blocking; returns the count. */
    public int send(NativeSocket socket, byte[] out, int len) throws SyscallException {
        int n;
        try {
            n = socket.send(out, len, LibC.MSG_DONTWAIT | LibC.MSG_NOSIGNAL);
        } catch (SyscallException.WouldBlockException full) {
            return 0;
        }
        synchronized (this) {
            sentDigest.update(out, 0, n);
            sent += n;
        }
        return n;
    }

    /**
     * One non-blocking read of the echo into {@code in}, checked byte by byte.
     *
     * @return the bytes read, 0 when none are there now, -1 at the end of the stream
     * @throws IllegalStateException when an echoed byte differs from the one sent at its offset
     */
    public int receive(NativeSocket socket, byte[] in) throws SyscallException {
        int n;
        try {
            n = socket.recv(in, in.length, LibC.MSG_DONTWAIT);
        } catch (SyscallException.WouldBlockException empty) {
            return 0;
        }
        if (n == 0) {
            return -1;
        }
        for (int i = 0; i < n; i++) {
            if (in[i] != byteAt(echoed + i)) {
                throw new IllegalStateException("echoed byte " + (echoed + i) + " differs from what was sent");
            }
        }
        synchronized (this) {
            echoDigest.update(in, 0, n);
            echoed += n;
        }
        return n;
    }

    public long sent() {
        return sent;
    }

    public long echoed() {
        return echoed;
    }

    public synchronized String sentSha256() {
        return hex(sentDigest);
    }

    public synchronized String echoSha256() {
        return hex(echoDigest);
    }

    private static String hex(MessageDigest digest) {
        try {
            return HexFormat.of().formatHex(((MessageDigest) digest.clone()).digest());
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }
}
