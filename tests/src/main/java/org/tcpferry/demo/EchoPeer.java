package org.tcpferry.demo;

import org.tcpferry.sys.LibC;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.SyscallException;
import org.tcpferry.testsupport.EchoedStream;

/**
 * The demo's peer end of one connection: sends a reproducible stream at a steady pace and reads
 * back the guest's echo, checking every byte and keeping SHA-256s of both directions
 * ({@link EchoedStream}). It stops at the first error (a peer that gave up: ETIMEDOUT, or a reset).
 */
final class EchoPeer {
    private final NativeSocket socket;
    private final Thread thread;
    private final EchoedStream stream = new EchoedStream(0);
    private volatile boolean finishing;
    private volatile boolean eof;
    private volatile String failure;

    EchoPeer(NativeSocket socket, String name) {
        this.socket = socket;
        this.thread = new Thread(this::run, "demo-peer " + name);
        thread.setDaemon(true);
        thread.start();
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
                    stream.fill(out, out.length);
                    stream.send(socket, out, out.length);
                    nextSend = System.nanoTime() + 20_000_000L; // about 400 KB/s
                }
                if ((revents & (LibC.POLLIN | LibC.POLLHUP | LibC.POLLERR)) != 0 && stream.receive(socket, in) < 0) {
                    eof = true;
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
        return stream.sent();
    }

    long echoed() {
        return stream.echoed();
    }

    boolean eof() {
        return eof;
    }

    String failure() {
        return failure;
    }

    String sentSha256() {
        return stream.sentSha256();
    }

    String echoSha256() {
        return stream.echoSha256();
    }

    void close() throws SyscallException {
        finishing = true;
        socket.close();
    }
}
