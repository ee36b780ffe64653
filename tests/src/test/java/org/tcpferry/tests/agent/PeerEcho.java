package org.tcpferry.tests.agent;

import org.tcpferry.sys.LibC;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.testsupport.EchoedStream;

/**
 * The peer's end of one echoed connection: a thread that sends a reproducible stream (seeded per
 * connection) at a pace and checks every echoed byte against what it sent, keeping SHA-256s of
 * both directions ({@link EchoedStream}). Reading can be paused (the guest's echo then piles up in its send queue).
 * {@link #finish} stops sending, sends FIN, and waits for the whole echo and the guest's FIN.
 */
final class PeerEcho implements AutoCloseable {
    private final NativeSocket socket;
    private final EchoedStream stream;
    private final int chunk;
    private final long pauseMillis;
    private final Thread thread;
    private volatile boolean stopSending;
    private volatile boolean readPaused;
    private volatile boolean closing;
    private volatile boolean eof;
    private volatile Throwable failure;
    /** When the failure happened, to line it up with the daemons' logs. */
    private volatile java.time.Instant failedAt;

    PeerEcho(NativeSocket socket, long seed, int chunk, long pauseMillis) throws Exception {
        this.socket = socket;
        this.stream = new EchoedStream(seed);
        this.chunk = chunk;
        this.pauseMillis = pauseMillis;
        this.thread = new Thread(this::run, "peer-echo " + seed);
        thread.setDaemon(true);
        thread.start();
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
                // Send before the FIN, never after: wantSend was decided before the poll, and finish()
                // may have asked for the FIN while the poll waited for room (a full window). Shutting
                // down first and then sending the chunk made the peer's own send fail with EPIPE (the
                // rare HostdRestartTest failure after a reclaim with a large backlog).
                if ((revents & LibC.POLLOUT) != 0 && wantSend && !finSent) {
                    stream.fill(out, chunk);
                    stream.send(socket, out, chunk);
                    nextSend = System.nanoTime() + pauseMillis * 1_000_000;
                }
                if (finishRequested && !finSent) {
                    socket.shutdown(LibC.SHUT_WR);
                    finSent = true;
                }
                if ((revents & (LibC.POLLIN | LibC.POLLHUP | LibC.POLLERR)) != 0 && !readPaused) {
                    if (stream.receive(socket, in) < 0) {
                        eof = true;
                        break;
                    }
                }
            }
        } catch (Throwable t) {
            failedAt = java.time.Instant.now();
            failure = t;
        }
    }

    private volatile boolean finishRequested;

    void pauseReading(boolean paused) {
        readPaused = paused;
    }

    long sent() {
        return stream.sent();
    }

    long echoed() {
        return stream.echoed();
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
        long sent = stream.sent();
        long echoed = stream.echoed();
        if (failure != null) {
            throw new AssertionError("peer " + socket.flow() + " failed at " + failedAt + " after " + sent + " sent, "
                    + echoed + " echoed: " + failure, failure);
        }
        if (!eof) {
            throw new AssertionError("peer " + socket.flow() + ": no FIN from the guest within " + timeoutMillis
                    + " ms; sent " + sent + ", echoed " + echoed);
        }
        String sentHex = stream.sentSha256();
        String echoHex = stream.echoSha256();
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
