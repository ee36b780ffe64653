package org.tcpferry.testsupport;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.Random;
import org.tcpferry.sys.LibC;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.SyscallException;

/** Byte-stream helpers over {@link NativeSocket} for tests: write, read exactly, compare. */
public final class SocketIo {
    private SocketIo() {}

    /** {@code n} reproducible pseudo-random bytes. */
    public static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.write(p, 0, p.length);
        }
        return out.toByteArray();
    }

    /** Sends all of {@code data}, waiting for room; fails after {@code timeoutMs} without progress. */
    public static void sendAll(NativeSocket s, byte[] data, int timeoutMs) throws SyscallException {
        int off = 0;
        while (off < data.length) {
            int sent = sendSome(s, off == 0 ? data : Arrays.copyOfRange(data, off, data.length));
            if (sent == 0 && (s.poll(LibC.POLLOUT, timeoutMs) & LibC.POLLOUT) == 0) {
                throw new AssertionError("no room to send after " + off + " of " + data.length + " bytes on " + s);
            }
            off += sent;
        }
    }

    /** Sends what fits now without blocking; returns the count (0 when the send buffer is full). */
    public static int sendSome(NativeSocket s, byte[] data) throws SyscallException {
        try {
            return s.send(data, data.length, LibC.MSG_DONTWAIT | LibC.MSG_NOSIGNAL);
        } catch (SyscallException.WouldBlockException full) {
            return 0;
        }
    }

    /** Sends as much of {@code data} as the socket takes without blocking; returns the count. */
    public static int fill(NativeSocket s, byte[] data) throws SyscallException {
        int off = 0;
        int sent;
        while (off < data.length && (sent = sendSome(s, Arrays.copyOfRange(data, off, data.length))) > 0) {
            off += sent;
        }
        return off;
    }

    /** Reads exactly {@code n} bytes; fails on EOF or after {@code timeoutMs} without progress. */
    public static byte[] readExactly(NativeSocket s, int n, int timeoutMs) throws SyscallException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[65536];
        while (out.size() < n) {
            if ((s.poll(LibC.POLLIN, timeoutMs) & (LibC.POLLIN | LibC.POLLHUP | LibC.POLLERR)) == 0) {
                throw new AssertionError("timed out after " + out.size() + " of " + n + " bytes on " + s);
            }
            int got = s.recv(buf, Math.min(buf.length, n - out.size()), LibC.MSG_DONTWAIT);
            if (got == 0) {
                throw new AssertionError("EOF after " + out.size() + " of " + n + " bytes on " + s);
            }
            out.write(buf, 0, got);
        }
        return out.toByteArray();
    }

    /** Reads whatever is queued now, without blocking. */
    public static byte[] drain(NativeSocket s) throws SyscallException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[65536];
        while (true) {
            int got;
            try {
                got = s.recv(buf, buf.length, LibC.MSG_DONTWAIT);
            } catch (SyscallException.WouldBlockException empty) {
                return out.toByteArray();
            }
            if (got == 0) {
                return out.toByteArray();
            }
            out.write(buf, 0, got);
        }
    }

    /** Asserts that the next read is end of stream. */
    public static void expectEof(NativeSocket s, int timeoutMs) throws SyscallException {
        if ((s.poll(LibC.POLLIN, timeoutMs) & (LibC.POLLIN | LibC.POLLHUP)) == 0) {
            throw new AssertionError("no EOF within " + timeoutMs + " ms on " + s);
        }
        int got = s.recv(new byte[1], 1, LibC.MSG_DONTWAIT);
        if (got != 0) {
            throw new AssertionError("expected EOF but read " + got + " byte(s) on " + s);
        }
    }
}
