package org.tcpferry.tests.host;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.tcpferry.sys.LibC;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.SyscallException;

/**
 * The peer's side of a test connection: a thread that sends a deterministic byte stream as fast
 * as the connection takes it, keeping count and a SHA-256 of everything sent. It stops when told
 * (then sends FIN) or when the connection fails (a peer that gave up: ETIMEDOUT).
 */
final class PeerStream implements AutoCloseable {
    private final NativeSocket socket;
    private final MessageDigest digest;
    private final Thread thread;
    private final long pauseMillis;
    private volatile boolean stop;
    private volatile long sent;
    private volatile SyscallException failure;
    private volatile long failedAtNanos;
    private String finalDigest;

    /** @param pauseMillis pause between 16 KiB chunks, 0 for as fast as possible */
    PeerStream(NativeSocket socket, long pauseMillis) {
        this.socket = socket;
        this.pauseMillis = pauseMillis;
        try {
            this.digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        this.thread = new Thread(this::run, "peer-stream " + socket.flow());
        thread.setDaemon(true);
    }

    PeerStream start() {
        thread.start();
        return this;
    }

    /** Byte {@code i} of every test stream. */
    static byte byteAt(long i) {
        return (byte) ((i * 2654435761L) >>> 13);
    }

    private void run() {
        byte[] chunk = new byte[16 * 1024];
        try {
            while (!stop) {
                if ((socket.poll(LibC.POLLOUT, 100) & LibC.POLLOUT) == 0) {
                    continue;
                }
                for (int i = 0; i < chunk.length; i++) {
                    chunk[i] = byteAt(sent + i);
                }
                int n;
                try {
                    n = socket.send(chunk, chunk.length, LibC.MSG_DONTWAIT | LibC.MSG_NOSIGNAL);
                } catch (SyscallException.WouldBlockException full) {
                    continue; // POLLOUT said yes but the buffer filled meanwhile; poll again
                }
                digest.update(chunk, 0, n);
                sent += n;
                if (pauseMillis > 0) {
                    Thread.sleep(pauseMillis);
                }
            }
        } catch (SyscallException e) {
            failedAtNanos = System.nanoTime();
            failure = e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops sending, sends FIN, and returns the SHA-256 of all bytes sent (hex). */
    String finish() throws Exception {
        stop = true;
        thread.join(10_000);
        if (failure != null) {
            throw new AssertionError("peer stream failed after " + sent + " bytes: " + failure.getMessage(), failure);
        }
        socket.shutdown(LibC.SHUT_WR);
        finalDigest = HexFormat.of().formatHex(digest.digest());
        return finalDigest;
    }

    long sent() {
        return sent;
    }

    /** The error that ended the stream (null while it runs fine). */
    SyscallException failure() {
        return failure;
    }

    long failedAtNanos() {
        return failedAtNanos;
    }

    NativeSocket socket() {
        return socket;
    }

    @Override
    public void close() throws Exception {
        stop = true;
        thread.join(10_000);
        socket.close();
    }
}
