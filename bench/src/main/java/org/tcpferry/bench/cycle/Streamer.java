package org.tcpferry.bench.cycle;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import org.tcpferry.sys.LibC;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.SockAddr;
import org.tcpferry.sys.SockOpt;
import org.tcpferry.sys.SyscallException;

/**
 * One side of the benchmark's streams, in a process of its own (10,000 sockets per side need
 * their own descriptor limit): the guest application ({@code connect}) or the peer
 * ({@code listen}). Both sides send and read all the time: the first {@code fast} connections get
 * {@value #CHUNK} bytes every millisecond, every other connection once a second (10,000
 * connections sending every millisecond would take both cores from what is measured).
 *
 * <p>It reports on stdout, with {@link System#nanoTime()} (CLOCK_MONOTONIC, the same clock in
 * every process on the machine):
 * <ul>
 *   <li>{@code READY} once all connections are up;</li>
 *   <li>{@code GAP tick <start> <nanos>} when its own loop did not run for more than
 *       {@value #GAP_MILLIS} ms: the application was frozen (that is how the guest side measures
 *       the application's frozen time);</li>
 *   <li>{@code GAP ack <conn> <start> <nanos>} (peer side, fast connections): the longest time in
 *       which no new byte of this side's stream was acknowledged ({@code tcpi_bytes_acked} did not
 *       grow) while it kept sending, i.e. the stall the peer saw.</li>
 * </ul>
 * Usage: {@code Streamer connect|listen <ip> <port> <count> <fast>}; exits when stdin closes.
 */
public final class Streamer {
    static final int CHUNK = 64;
    static final int GAP_MILLIS = 5;
    /** Offset of {@code tcpi_bytes_acked} (u64) in struct tcp_info. */
    private static final int TCPI_BYTES_ACKED = 120;
    private static final long TICK_NANOS = 1_000_000;
    private static final long SLOW_PERIOD_NANOS = 1_000_000_000;

    private final NativeSocket[] sockets;
    private final int fast;
    private final boolean measureAcks;
    private final long[] acked;
    private final long[] ackedSince;
    private final byte[] chunk = new byte[CHUNK];
    private final byte[] sink = new byte[65536];
    private final PrintStream out = System.out;

    private Streamer(NativeSocket[] sockets, int fast, boolean measureAcks) {
        this.sockets = sockets;
        this.fast = Math.min(fast, sockets.length);
        this.measureAcks = measureAcks;
        this.acked = new long[this.fast];
        this.ackedSince = new long[this.fast];
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        InetAddress ip = InetAddress.getByName(args[1]);
        int port = Integer.parseInt(args[2]);
        int count = Integer.parseInt(args[3]);
        int fast = Integer.parseInt(args[4]);
        exitWhenStdinCloses();
        NativeSocket[] sockets = mode.equals("listen") ? accept(ip, port, count) : connect(ip, port, count);
        System.out.println("READY");
        System.out.flush();
        new Streamer(sockets, fast, mode.equals("listen")).run();
    }

    private static NativeSocket[] accept(InetAddress ip, int port, int count) throws IOException {
        NativeSocket listener = NativeSocket.tcp(SockAddr.family(ip));
        listener.setInt(SockOpt.SO_REUSEADDR, 1);
        listener.bind(new InetSocketAddress(ip, port));
        listener.listen(4096);
        System.out.println("LISTENING");
        System.out.flush();
        NativeSocket[] sockets = new NativeSocket[count];
        for (int i = 0; i < count; i++) {
            sockets[i] = listener.accept();
        }
        listener.close();
        return sockets;
    }

    private static NativeSocket[] connect(InetAddress ip, int port, int count) throws IOException {
        NativeSocket[] sockets = new NativeSocket[count];
        InetSocketAddress target = new InetSocketAddress(ip, port);
        for (int i = 0; i < count; i++) {
            sockets[i] = NativeSocket.tcp(SockAddr.family(ip));
            sockets[i].connect(target);
        }
        return sockets;
    }

    private void run() {
        long now = System.nanoTime();
        for (int i = 0; i < fast; i++) {
            ackedSince[i] = now;
        }
        long lastTick = now;
        int slowCursor = fast;
        int slowCount = sockets.length - fast;
        double slowPerTick = slowCount * (double) TICK_NANOS / SLOW_PERIOD_NANOS;
        double slowCredit = 0;
        while (true) {
            LockSupport.parkNanos(TICK_NANOS);
            now = System.nanoTime();
            if (now - lastTick > GAP_MILLIS * 1_000_000L) {
                report("GAP tick " + lastTick + " " + (now - lastTick));
            }
            lastTick = now;
            for (int i = 0; i < fast; i++) {
                service(i);
                if (measureAcks) {
                    watchAcks(i, now);
                }
            }
            if (slowCount > 0) {
                slowCredit += slowPerTick;
                while (slowCredit >= 1) {
                    slowCredit -= 1;
                    service(slowCursor);
                    slowCursor = slowCursor + 1 < sockets.length ? slowCursor + 1 : fast;
                }
            }
        }
    }

    /** Sends one chunk and reads whatever arrived; a connection that fails is reported once and dropped. */
    private void service(int i) {
        NativeSocket s = sockets[i];
        if (s == null) {
            return;
        }
        try {
            try {
                s.send(chunk, CHUNK, LibC.MSG_DONTWAIT);
            } catch (SyscallException.WouldBlockException full) {
                // the send queue is full while the other side is away: it is sent later
            }
            while (true) {
                int n;
                try {
                    n = s.recv(sink, sink.length, LibC.MSG_DONTWAIT);
                } catch (SyscallException.WouldBlockException drained) {
                    break;
                }
                if (n == 0) {
                    throw new IOException("end of stream");
                }
            }
        } catch (IOException e) {
            report("ERROR conn " + i + " " + e.getMessage());
            sockets[i] = null;
        }
    }

    private void watchAcks(int i, long now) {
        if (sockets[i] == null) {
            return;
        }
        byte[] info;
        try {
            info = sockets[i].getBytes(SockOpt.TCP_INFO, 232);
        } catch (IOException e) {
            report("ERROR tcp_info " + i + " " + e.getMessage());
            return;
        }
        long bytesAcked = info.length >= TCPI_BYTES_ACKED + 8 ? readLong(info, TCPI_BYTES_ACKED) : -1;
        if (bytesAcked != acked[i]) {
            long gap = now - ackedSince[i];
            if (gap > GAP_MILLIS * 1_000_000L) {
                report("GAP ack " + i + " " + ackedSince[i] + " " + gap);
            }
            acked[i] = bytesAcked;
            ackedSince[i] = now;
        }
    }

    private void report(String line) {
        out.println(line);
        out.flush();
    }

    private static long readLong(byte[] b, int at) {
        long v = 0;
        for (int k = 7; k >= 0; k--) {
            v = v << 8 | (b[at + k] & 0xff);
        }
        return v;
    }

    private static void exitWhenStdinCloses() {
        Thread watchdog = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // the benchmark keeps stdin open while it needs us
                }
            } catch (IOException broken) {
                System.err.println("stdin broken: " + broken.getMessage() + "; exiting");
            }
            System.exit(0);
        }, "stdin-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
    }
}
