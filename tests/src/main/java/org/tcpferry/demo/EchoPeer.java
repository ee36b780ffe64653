package org.tcpferry.demo;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.tcpferry.sys.LibC;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.SyscallException;

/**
 * The demo's peer end of one connection: sends a reproducible stream at a steady pace and reads
 * back the guest's echo, checking every byte and keeping SHA-256s of both directions. It stops at
 * the first error (a peer that gave up: ETIMEDOUT, or a reset).
 */
final class EchoPeer {
    private final NativeSocket socket;
    private final Thread thread;
    private final MessageDigest sentDigest = sha256();
    private final MessageDigest echoDigest = sha256();
    private volatile boolean finishing;
    private volatile long sent;
    private volatile long echoed;
    private volatile boolean eof;
    private volatile String failure;

    EchoPeer(NativeSocket socket, String name) {
        this.socket = socket;
        this.thread = new Thread(this::run, "demo-peer " + name);
        thread.setDaemon(true);
        thread.start();
    }

    static byte byteAt(long i) {
        return (byte) ((i * 2654435761L) >>> 13);
    }

    private void run() {
        byte[] out = new byte[8192];
        byte[] in = new byte[65536];
        long nextSend = 0;
        boolean finSent = false;
        try {
            while (!eof) {
                if (finishing && !finSent) {
                    socket.shutdown(LibC.SHUT_WR);
                    finSent = true;
                }
                boolean wantSend = !finishing && System.nanoTime() >= nextSend;
                int revents = socket.poll((short) (LibC.POLLIN | (wantSend ? LibC.POLLOUT : 0)), 20);
                if (wantSend && (revents & LibC.POLLOUT) != 0) {
                    for (int i = 0; i < out.length; i++) {
                        out[i] = byteAt(sent + i);
                    }
                    int n;
                    try {
                        n = socket.send(out, out.length, LibC.MSG_DONTWAIT | LibC.MSG_NOSIGNAL);
                    } catch (SyscallException.WouldBlockException full) {
                        n = 0;
                    }
                    sentDigest.update(out, 0, n);
                    sent += n;
                    nextSend = System.nanoTime() + 20_000_000L; // about 400 KB/s
                }
                if ((revents & (LibC.POLLIN | LibC.POLLHUP | LibC.POLLERR)) != 0) {
                    int n;
                    try {
                        n = socket.recv(in, in.length, LibC.MSG_DONTWAIT);
                    } catch (SyscallException.WouldBlockException empty) {
                        continue;
                    }
                    if (n == 0) {
                        eof = true;
                        break;
                    }
                    for (int i = 0; i < n; i++) {
                        if (in[i] != byteAt(echoed + i)) {
                            throw new IllegalStateException("echoed byte " + (echoed + i) + " differs");
                        }
                    }
                    echoDigest.update(in, 0, n);
                    echoed += n;
                }
            }
        } catch (SyscallException e) {
            failure = LibC.strerror(e.errno()) + " (errno " + e.errno() + ")";
        } catch (RuntimeException e) {
            failure = e.getMessage();
        }
    }

    /** Stops sending, sends FIN and waits for the rest of the echo and the guest's FIN. */
    void finish(long timeoutMillis) throws InterruptedException {
        finishing = true;
        thread.join(timeoutMillis);
    }

    long sent() {
        return sent;
    }

    long echoed() {
        return echoed;
    }

    boolean eof() {
        return eof;
    }

    String failure() {
        return failure;
    }

    String sentSha256() {
        return hex(sentDigest);
    }

    String echoSha256() {
        return hex(echoDigest);
    }

    void close() throws SyscallException {
        finishing = true;
        socket.close();
    }

    private static String hex(MessageDigest d) {
        try {
            return HexFormat.of().formatHex(((MessageDigest) d.clone()).digest());
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
