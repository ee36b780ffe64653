package org.tcpferry.tests.agent;

import java.security.MessageDigest;
import java.util.HexFormat;
import org.tcpferry.sys.LibC;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.SyscallException;

/**
 * The peer's end of one echoed connection: a thread that sends a reproducible stream (seeded per
 * connection) at a pace and checks every echoed byte against what it sent, keeping SHA-256s of
 * both directions. Reading can be paused (the guest's echo then piles up in its send queue).
 * {@link #finish} stops sending, sends FIN, and waits for the whole echo and the guest's FIN.
 */
final class PeerEcho implements AutoCloseable {
    private final NativeSocket socket;
    private final long seed;
    private final int chunk;
    private final long pauseMillis;
    private final Thread thread;
    private final MessageDigest sentDigest;
    private final MessageDigest echoDigest;
    private volatile boolean stopSending;
    private volatile boolean readPaused;
    private volatile boolean closing;
    private volatile long sent;
    private volatile long echoed;
    private volatile boolean eof;
    private volatile Throwable failure;

    PeerEcho(NativeSocket socket, long seed, int chunk, long pauseMillis) throws Exception {
        this.socket = socket;
        this.seed = seed;
        this.chunk = chunk;
        this.pauseMillis = pauseMillis;
        this.sentDigest = MessageDigest.getInstance("SHA-256");
        this.echoDigest = MessageDigest.getInstance("SHA-256");
        this.thread = new Thread(this::run, "peer-echo " + seed);
        thread.setDaemon(true);
        thread.start();
    }

    byte byteAt(long i) {
        return (byte) (((i + seed * 7919) * 2654435761L) >>> 13);
    }

    private void run() {
        byte[] out = new byte[chunk];
        byte[] in = new byte[64 * 1024];
        long nextSend = 0;
        boolean finSent = false;
        try {
            while (!closing && !eof) {
                boolean wantSend = !stopSending && System.nanoTime() >= nextSend;
                short events = (short) ((readPaused ? 0 : LibC.POLLIN) | (wantSend ? LibC.POLLOUT : 0));
                int revents = events == 0 ? 0 : socket.poll(events, pauseMillis >= 100 ? 100 : 20);
                if (events == 0) {
                    Thread.sleep(10);
                }
                if (finishRequested && !finSent) {
                    socket.shutdown(LibC.SHUT_WR);
                    finSent = true;
                }
                if ((revents & LibC.POLLOUT) != 0 && wantSend) {
                    for (int i = 0; i < chunk; i++) {
                        out[i] = byteAt(sent + i);
                    }
                    int n;
                    try {
                        n = socket.send(out, chunk, LibC.MSG_DONTWAIT | LibC.MSG_NOSIGNAL);
                    } catch (SyscallException.WouldBlockException full) {
                        n = 0;
                    }
                    sentDigest.update(out, 0, n);
                    sent += n;
                    nextSend = System.nanoTime() + pauseMillis * 1_000_000;
                }
                if ((revents & (LibC.POLLIN | LibC.POLLHUP | LibC.POLLERR)) != 0 && !readPaused) {
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
                            throw new AssertionError("echoed byte " + (echoed + i) + " differs from what the peer sent");
                        }
                    }
                    echoDigest.update(in, 0, n);
                    echoed += n;
                }
            }
        } catch (Throwable t) {
            failure = t;
        }
    }

    private volatile boolean finishRequested;

    void pauseReading(boolean paused) {
        readPaused = paused;
    }

    long sent() {
        return sent;
    }

    long echoed() {
        return echoed;
    }

    Throwable failure() {
        return failure;
    }

    NativeSocket socket() {
        return socket;
    }

    /** Stops sending and sends FIN now, without waiting for the echo (a peer that finishes during the hold). */
    void sendFin() {
        stopSending = true;
        finishRequested = true;
    }

    /**
     * Stops sending, sends FIN, waits for the full echo and the guest's FIN; returns
     * "bytes sha256" of what was sent, after checking the echo has the same digest.
     */
    String finish(long timeoutMillis) throws Exception {
        readPaused = false;
        stopSending = true;
        finishRequested = true;
        thread.join(timeoutMillis);
        if (failure != null) {
            throw new AssertionError("peer " + socket.flow() + " failed after " + sent + " sent, " + echoed + " echoed: "
                    + failure, failure);
        }
        if (!eof) {
            throw new AssertionError("peer " + socket.flow() + ": no FIN from the guest within " + timeoutMillis
                    + " ms; sent " + sent + ", echoed " + echoed);
        }
        String sentHex = HexFormat.of().formatHex(sentDigest.digest());
        String echoHex = HexFormat.of().formatHex(echoDigest.digest());
        if (echoed != sent || !sentHex.equals(echoHex)) {
            throw new AssertionError("echo differs: sent " + sent + " " + sentHex + ", echoed " + echoed + " " + echoHex);
        }
        return sent + " " + sentHex;
    }

    @Override
    public void close() throws Exception {
        closing = true;
        thread.join(5000);
        if (!socket.isClosed()) {
            socket.close();
        }
    }
}
