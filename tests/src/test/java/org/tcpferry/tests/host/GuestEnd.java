package org.tcpferry.tests.host;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.tcpferry.sys.LibC;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.SyscallException;

/**
 * The guest application's side of a test connection: a thread that reads everything, checking
 * each byte against {@link PeerStream#byteAt} and keeping a SHA-256. It can be paused (the
 * "frozen" application during a handoff) and resumed on the same descriptor after conform.
 */
final class GuestEnd implements AutoCloseable {
    private final NativeSocket socket;
    private final MessageDigest digest;
    private final Thread thread;
    private final Object lock = new Object();
    private boolean pauseRequested;
    private boolean paused;
    private volatile boolean closing;
    private volatile long received;
    private volatile boolean eof;
    private volatile Exception failure;

    GuestEnd(NativeSocket socket) {
        this.socket = socket;
        try {
            this.digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        this.thread = new Thread(this::run, "guest-reader " + socket.flow());
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        byte[] buffer = new byte[64 * 1024];
        try {
            while (!closing && !eof) {
                synchronized (lock) {
                    while (pauseRequested && !closing) {
                        paused = true;
                        lock.notifyAll();
                        lock.wait();
                    }
                    paused = false;
                }
                if ((socket.poll(LibC.POLLIN, 50) & (LibC.POLLIN | LibC.POLLHUP | LibC.POLLERR)) == 0) {
                    continue;
                }
                synchronized (lock) {
                    if (pauseRequested) {
                        continue; // frozen between poll and recv: the socket may be in repair mode now
                    }
                    int n;
                    try {
                        n = socket.recv(buffer, buffer.length, LibC.MSG_DONTWAIT);
                    } catch (SyscallException.WouldBlockException spurious) {
                        continue;
                    }
                    if (n == 0) {
                        eof = true;
                        break;
                    }
                    for (int i = 0; i < n; i++) {
                        if (buffer[i] != PeerStream.byteAt(received + i)) {
                            throw new AssertionError("byte " + (received + i) + " differs from what the peer sent");
                        }
                    }
                    digest.update(buffer, 0, n);
                    received += n;
                }
            }
        } catch (Exception | AssertionError e) {
            failure = e instanceof Exception ex ? ex : new Exception(e);
        }
    }

    /** Freezes the reader; when this returns it does not touch the socket. */
    void pause() throws InterruptedException {
        synchronized (lock) {
            pauseRequested = true;
            lock.notifyAll();
            while (!paused && thread.isAlive()) {
                lock.wait(100);
            }
        }
    }

    void resume() {
        synchronized (lock) {
            pauseRequested = false;
            lock.notifyAll();
        }
    }

    /** Waits for the peer's FIN and returns the SHA-256 of everything read (hex). */
    String awaitEof(long timeoutMillis) throws Exception {
        thread.join(timeoutMillis);
        if (failure != null) {
            throw failure;
        }
        if (!eof) {
            throw new AssertionError("guest saw no FIN within " + timeoutMillis + " ms, read " + received + " bytes");
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    long received() {
        return received;
    }

    Exception failure() {
        return failure;
    }

    NativeSocket socket() {
        return socket;
    }

    @Override
    public void close() throws Exception {
        closing = true;
        resume();
        thread.join(5000);
        if (!socket.isClosed()) {
            socket.close();
        }
    }
}
