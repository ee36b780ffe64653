package org.tcpferry.repair;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Random;
import org.tcpferry.sys.LibC;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.SockAddr;
import org.tcpferry.sys.SyscallException;

/** Connected socket pairs on loopback and byte helpers for the repair tests. */
final class Loopback {
    private Loopback() {}

    /** A connected pair: [0] the client (the side tcpferry carries), [1] the accepted peer. */
    static NativeSocket[] pair(String host) throws Exception {
        InetAddress address = InetAddress.getByName(host);
        try (NativeSocket listener = NativeSocket.tcp(SockAddr.family(address))) {
            listener.bind(new InetSocketAddress(address, 0));
            listener.listen(16);
            NativeSocket client = NativeSocket.tcp(SockAddr.family(address));
            client.connect(listener.localAddress());
            NativeSocket peer = listener.accept();
            return new NativeSocket[] {client, peer};
        }
    }

    static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** Sends all of {@code data}, blocking. */
    static void sendAll(NativeSocket s, byte[] data) throws SyscallException {
        int off = 0;
        while (off < data.length) {
            byte[] piece = off == 0 ? data : java.util.Arrays.copyOfRange(data, off, data.length);
            off += s.send(piece, piece.length, LibC.MSG_NOSIGNAL);
        }
    }

    /** Reads exactly {@code n} bytes, failing after {@code timeoutMs} without progress. */
    static byte[] readExactly(NativeSocket s, int n, int timeoutMs) throws SyscallException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[65536];
        while (out.size() < n) {
            if ((s.poll(LibC.POLLIN, timeoutMs) & LibC.POLLIN) == 0) {
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

    /** Asserts the next read is end of stream. */
    static void assertEof(NativeSocket s, int timeoutMs) throws SyscallException {
        assertThat(s.poll(LibC.POLLIN, timeoutMs) & LibC.POLLIN).as("readable (EOF) on %s", s).isNotZero();
        assertThat(s.recv(new byte[1], 1, LibC.MSG_DONTWAIT)).as("EOF on %s", s).isZero();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.write(p, 0, p.length);
        }
        return out.toByteArray();
    }
}
