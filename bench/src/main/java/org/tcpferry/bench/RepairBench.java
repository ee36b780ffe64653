package org.tcpferry.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.tcpferry.repair.ConnectionState;
import org.tcpferry.repair.RestoreOptions;
import org.tcpferry.repair.TcpRepair;
import org.tcpferry.sys.LibC;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.SockOpt;

/**
 * Per-connection cost of the repair engine's three steps (dump, restore into a new socket,
 * conform in place) on N loopback connections, against the same kernel calls made through the
 * bare binding ({@link BareRepair}) in the same run. Each connection has {@value #UNREAD} unread
 * bytes in its receive queue. Every connection is checked alive after each pass.
 *
 * <p>Usage: {@code RepairBench [N ...] [--out FILE]}; default N = 1 1000 10000. Needs root.
 */
public final class RepairBench {
    private static final int UNREAD = 128;
    private static final String[] STEPS = {"dump", "restore", "conform"};

    public static void main(String[] args) throws Exception {
        List<Integer> sizes = new ArrayList<>();
        Path out = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--out")) {
                out = Path.of(args[++i]);
            } else {
                sizes.add(Integer.parseInt(args[i]));
            }
        }
        if (sizes.isEmpty()) {
            sizes = List.of(1, 1000, 10000);
        }
        Connections.peers = PeerProcess.start(UNREAD);
        System.err.println("warming up (JIT) ...");
        runPair(500, new Samples(), new Samples());
        runPair(500, new Samples(), new Samples());

        StringBuilder table = new StringBuilder();
        table.append("| N | step | engine median µs | engine p99 µs | bare median µs | bare p99 µs | ratio | ≤ 25 µs |\n");
        table.append("|---:|---|---:|---:|---:|---:|---:|:---:|\n");
        for (int n : sizes) {
            Samples engine = new Samples();
            Samples bare = new Samples();
            int repetitions = n == 1 ? 300 : Math.max(2, 20_000 / n);
            System.err.printf("N=%d: %d repetitions ...%n", n, repetitions);
            for (int r = 0; r < repetitions; r++) {
                runPair(n, engine, bare);
            }
            for (int s = 0; s < STEPS.length; s++) {
                double em = engine.median(s), ep = engine.p99(s), bm = bare.median(s), bp = bare.p99(s);
                table.append(String.format("| %d | %s | %.1f | %.1f | %.1f | %.1f | %.2f | %s |%n",
                        n, STEPS[s], em, ep, bm, bp, em / bm, em <= 25 ? "yes" : "**no**"));
            }
        }
        String header = "Repair engine per connection and step, " + LocalMachine.describe()
                + String.format("; one bare getsockopt cost %.2f µs (median), load average %s when the run ended",
                        SyscallCost.getsockoptMicros(), LocalMachine.loadAverage())
                + "\n\n";
        System.out.println(header + table);
        if (out != null) {
            Files.writeString(out, header + table);
        }
    }

    /** One pass of each variant on n fresh connections, alternating which goes first. */
    private static void runPair(int n, Samples engine, Samples bare) throws Exception {
        engine.add(runEngine(n));
        bare.add(runBare(n));
    }

    private static long[][] runEngine(int n) throws Exception {
        Connections c = Connections.open(n);
        long[][] t = new long[3][n];
        ConnectionState[] states = new ConnectionState[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            states[i] = TcpRepair.dump(c.originals[i]);
            TcpRepair.detach(c.originals[i]);
            t[0][i] = System.nanoTime() - t0;
        }
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            NativeSocket copy = TcpRepair.restore(states[i], RestoreOptions.plain());
            t[1][i] = System.nanoTime() - t0;
            // Closed at once, untimed: 10,000 copies on top of 10,000 originals exceed this
            // process's descriptor limit, and the copy's only job here is to exist.
            TcpRepair.closeSilently(copy);
        }
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            TcpRepair.conformInPlace(c.originals[i], states[i]);
            t[2][i] = System.nanoTime() - t0;
        }
        c.verifyAndClose();
        return t;
    }

    private static long[][] runBare(int n) throws Exception {
        Connections c = Connections.open(n);
        BareRepair bare = new BareRepair();
        BareRepair.Batch batch = new BareRepair.Batch(n);
        long[][] t = new long[3][n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            bare.dump(c.originals[i].fd(), batch, i);
            t[0][i] = System.nanoTime() - t0;
        }
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            int copy = bare.restore(batch, i);
            t[1][i] = System.nanoTime() - t0;
            bare.closeSilently(copy);
        }
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            bare.conform(c.originals[i].fd(), batch, i);
            t[2][i] = System.nanoTime() - t0;
        }
        c.verifyAndClose();
        return t;
    }

    /** n connected loopback pairs, each original with {@value #UNREAD} unread bytes from its peer. */
    private static final class Connections {
        static PeerProcess peers;
        final NativeSocket[] originals;

        private Connections(int n) {
            originals = new NativeSocket[n];
        }

        static Connections open(int n) throws IOException {
            Connections c = new Connections(n);
            InetSocketAddress at = new InetSocketAddress(InetAddress.getLoopbackAddress(), peers.port);
            for (int i = 0; i < n; i++) {
                c.originals[i] = NativeSocket.tcp(LibC.AF_INET);
                c.originals[i].connect(at);
            }
            // Every original has its unread bytes queued before the dumps start.
            for (int i = 0; i < n; i++) {
                long deadline = System.nanoTime() + 5_000_000_000L;
                while (c.originals[i].ioctlInt(LibC.SIOCINQ, "SIOCINQ") < UNREAD) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("connection " + i + " never received its bytes");
                    }
                    c.originals[i].poll(LibC.POLLIN, 100);
                    Thread.yield();
                }
            }
            return c;
        }

        /** Every original still delivers its unread bytes and carries new ones both ways. */
        void verifyAndClose() throws IOException {
            byte[] buf = new byte[UNREAD + 1];
            byte[] one = {42};
            byte[] lingerZero = new byte[8];
            lingerZero[0] = 1; // l_onoff = 1, l_linger = 0: close with RST, leaving no TIME_WAIT
            for (int i = 0; i < originals.length; i++) {
                if (originals[i].recv(buf, buf.length, LibC.MSG_DONTWAIT) != UNREAD) {
                    throw new IllegalStateException("connection " + i + " lost its unread bytes");
                }
                originals[i].send(one, 1, 0);
                originals[i].poll(LibC.POLLIN, 2000);
                if (originals[i].recv(buf, 1, LibC.MSG_DONTWAIT) != 1 || buf[0] != 42) {
                    throw new IllegalStateException("connection " + i + " did not carry a byte after conform");
                }
                originals[i].setBytes(SockOpt.SO_LINGER, lingerZero);
                originals[i].close();
            }
        }
    }

    /** Per-step samples in microseconds. */
    private static final class Samples {
        private final List<double[]> perStep = new ArrayList<>(List.of(new double[0], new double[0], new double[0]));

        void add(long[][] nanos) {
            for (int s = 0; s < 3; s++) {
                double[] old = perStep.get(s);
                double[] merged = Arrays.copyOf(old, old.length + nanos[s].length);
                for (int i = 0; i < nanos[s].length; i++) {
                    merged[old.length + i] = nanos[s][i] / 1000.0;
                }
                perStep.set(s, merged);
            }
        }

        double median(int step) {
            return percentile(step, 0.50);
        }

        double p99(int step) {
            return percentile(step, 0.99);
        }

        private double percentile(int step, double q) {
            double[] v = perStep.get(step).clone();
            Arrays.sort(v);
            return v[Math.min(v.length - 1, (int) Math.floor(q * v.length))];
        }
    }

}
