package org.tcpferry.vmrig;

import org.tcpferry.sys.LibC;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.SockOpt;
import org.tcpferry.sys.SyscallException;
import org.tcpferry.testsupport.EchoedStream;

/**
 * The peer end of the guest's echo connection, configured to notice a dead peer quickly
 * (TCP_USER_TIMEOUT 3 s, keepalive 1 s / 1 s / 2 probes). It sends a reproducible byte stream at a
 * steady pace, reads the guest's echo, checks every byte and keeps SHA-256 of both directions
 * ({@link EchoedStream}). It
 * also records the longest time its sending was blocked (the peer-visible ACK stall) and the longest
 * gap between echoed bytes. It stops at the first error: ETIMEDOUT for a peer that gave up.
 */
public final class EchoPeer {
    /** Bytes sent per pacing step; with {@link #PACE_NANOS} about 64 KB/s, light for a TCG guest. */
    private static final int CHUNK = 4096;
    private static final long PACE_NANOS = 62_500_000L;

    private final NativeSocket socket;
    private final Thread thread;
    private final EchoedStream stream = new EchoedStream(0);
    private volatile boolean finishing;
    private volatile boolean eof;
    private volatile int failureErrno;
    private volatile String failure;
    private volatile long failedAtNanos;
    private volatile long longestSendStallMillis;
    private volatile long longestEchoGapMillis;

    /** Configures {@code socket} (an accepted connection) and starts streaming on a daemon thread. */
    public EchoPeer(NativeSocket socket) throws SyscallException {
        this.socket = socket;
        socket.setInt(SockOpt.TCP_USER_TIMEOUT, 3000);
        socket.setInt(SockOpt.SO_KEEPALIVE, 1);
        socket.setInt(SockOpt.TCP_KEEPIDLE, 1);
        socket.setInt(SockOpt.TCP_KEEPINTVL, 1);
        socket.setInt(SockOpt.TCP_KEEPCNT, 2);
        this.thread = new Thread(this::run, "vm-echo-peer");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        byte[] out = new byte[CHUNK];
        byte[] in = new byte[65536];
        long nextSend = System.nanoTime();
        long lastSendProgress = System.nanoTime();
        long lastEcho = System.nanoTime();
        boolean finSent = false;
        try {
            while (!eof) {
                if (finishing && !finSent) {
                    socket.shutdown(LibC.SHUT_WR);
                    finSent = true;
                }
                long now = System.nanoTime();
                boolean wantSend = !finishing && now >= nextSend;
                int revents = socket.poll((short) (LibC.POLLIN | (wantSend ? LibC.POLLOUT : 0)), 20);
                now = System.nanoTime();
                if (wantSend) {
                    int n = 0;
                    if ((revents & LibC.POLLOUT) != 0) {
                        stream.fill(out, out.length);
                        n = stream.send(socket, out, out.length);
                    }
                    if (n > 0) {
                        lastSendProgress = now;
                        nextSend = now + PACE_NANOS;
                    } else {
                        longestSendStallMillis = Math.max(longestSendStallMillis, (now - lastSendProgress) / 1_000_000);
                    }
                }
                if ((revents & (LibC.POLLIN | LibC.POLLHUP | LibC.POLLERR)) != 0) {
                    int n = stream.receive(socket, in);
                    if (n < 0) {
                        eof = true;
                        break;
                    }
                    if (n == 0) {
                        continue;
                    }
                    longestEchoGapMillis = Math.max(longestEchoGapMillis, (now - lastEcho) / 1_000_000);
                    lastEcho = now;
                }
            }
        } catch (SyscallException e) {
            failureErrno = e.errno();
            failure = e.getMessage();
            failedAtNanos = System.nanoTime();
        } catch (RuntimeException e) {
            failure = String.valueOf(e.getMessage());
            failedAtNanos = System.nanoTime();
        }
    }

    /** Stops sending, sends FIN and waits up to {@code timeoutMillis} for the rest of the echo and the guest's FIN. */
    public void finish(long timeoutMillis) throws InterruptedException {
        finishing = true;
        thread.join(timeoutMillis);
    }

    /** Bytes sent so far. */
    public long sent() {
        return stream.sent();
    }

    /** Bytes echoed back so far (each checked). */
    public long echoed() {
        return stream.echoed();
    }

    /** True once the guest closed its side. */
    public boolean eof() {
        return eof;
    }

    /** Why the connection failed, or null while it works. */
    public String failure() {
        return failure;
    }

    /** errno of the failure (ETIMEDOUT = 110), or 0. */
    public int failureErrno() {
        return failureErrno;
    }

    /** {@link System#nanoTime()} of the failure, or 0. */
    public long failedAtNanos() {
        return failedAtNanos;
    }

    /** True while the streaming thread runs. */
    public boolean running() {
        return thread.isAlive();
    }

    /** Longest time the peer wanted to send and could not (its window or ACKs stalled), ms. */
    public long longestSendStallMillis() {
        return longestSendStallMillis;
    }

    /** Longest gap between two echoed reads, ms. */
    public long longestEchoGapMillis() {
        return longestEchoGapMillis;
    }

    /** SHA-256 of everything sent so far. */
    public String sentSha256() {
        return stream.sentSha256();
    }

    /** SHA-256 of everything echoed back so far. */
    public String echoSha256() {
        return stream.echoSha256();
    }

    /** Closes the socket (after the thread ended or gave up). */
    public void close() throws SyscallException, InterruptedException {
        finishing = true;
        thread.join(2000);
        socket.close();
    }
}
