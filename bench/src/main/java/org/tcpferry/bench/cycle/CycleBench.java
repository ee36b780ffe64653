package org.tcpferry.bench.cycle;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tcpferry.protocol.HandoffOrder;
import org.tcpferry.protocol.ReclaimOrder;
import org.tcpferry.protocol.Selection;
import org.tcpferry.rig.StandardTopology;

/**
 * Full handoff and reclaim cycles on the namespace rig for N connections, both sides streaming:
 * each phase's time (from the agent's and host manager's structured log), the application's
 * frozen time (measured inside the application), the stall the peer saw (measured at the peer),
 * host memory per held connection, and the same repair steps through the bare binding as the
 * floor ({@link FloorProbe}). Prints a Markdown report and optionally writes it and a plot.
 *
 * <p>Usage: {@code CycleBench [N ...] [--cycles K] [--hold MS] [--out FILE.md] [--png FILE.png]
 * [--doc docs/benchmarks.md --command CMD]};
 * default N = 1 100 1000 10000 with 20/10/5/2 cycles (10,000 takes about two minutes a cycle here). Needs root.
 */
public final class CycleBench {
    private static final int PORT = 7700;
    /** Connections that stream every millisecond (the rest once a second) and whose ACK gaps are measured. */
    private static final int FAST = 8;
    private static final long SETTLE_MILLIS = 1_000;

    public static void main(String[] args) throws Exception {
        List<Integer> sizes = new ArrayList<>();
        int cycles = 0;
        long holdMillis = 1_000;
        Path out = null;
        Path png = null;
        Path doc = null;
        String command = "bench/run-cycle-bench";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--cycles" -> cycles = Integer.parseInt(args[++i]);
                case "--hold" -> holdMillis = Long.parseLong(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "--png" -> png = Path.of(args[++i]);
                case "--doc" -> doc = Path.of(args[++i]);
                case "--command" -> command = args[++i].trim();
                default -> sizes.add(Integer.parseInt(args[i]));
            }
        }
        if (sizes.isEmpty()) {
            sizes = List.of(1, 100, 1000, 10000);
        }
        // Two logback.xml on the class path (host manager's, agent's) make logback print its status at start.
        System.setProperty("logback.statusListenerClass", "ch.qos.logback.core.status.NopStatusListener");
        LogCapture capture = LogCapture.install();
        Map<Integer, SizeResult> results = new LinkedHashMap<>();
        for (int n : sizes) {
            int k = cycles > 0 ? cycles : n <= 1 ? 20 : n <= 100 ? 10 : n <= 1000 ? 5 : 2;
            try {
                results.put(n, runSize(n, k, holdMillis, capture));
            } catch (Exception | Error e) {
                System.err.printf("N=%d failed: %s%n", n, e);
                e.printStackTrace();
                results.put(n, SizeResult.failed(n, e.toString()));
            }
            capture.clear();
        }
        String report = Report.markdown(results, holdMillis);
        System.out.println(report);
        if (out != null) {
            Files.writeString(out, report);
        }
        if (png != null) {
            PhasePlot.write(results, png);
        }
        if (doc != null) {
            BenchmarksDoc.replaceResults(doc, command, report, png);
        }
        System.exit(0); // the agent's and host's non-daemon threads are closed, but Netty's may linger
    }

    private static SizeResult runSize(int n, int cycles, long holdMillis, LogCapture capture) throws Exception {
        String load = LoadAverage.read();
        System.err.printf("N=%d: %d cycles, load %s ...%n", n, cycles, load);
        SizeResult result = new SizeResult(n, cycles, load);
        try (CycleBed bed = CycleBed.create("cyc" + n, capture)) {
            StreamSide peer = StreamSide.start(bed.net.peer(), "listen", StandardTopology.PEER_V4, PORT, n, FAST);
            peer.expect("LISTENING", 30_000);
            StreamSide app = StreamSide.start(bed.net.guest(), "connect", StandardTopology.PEER_V4, PORT, n, FAST);
            app.expect("READY", 120_000);
            peer.expect("READY", 120_000);
            Thread.sleep(SETTLE_MILLIS);
            Map<String, Long> roles = new LinkedHashMap<>();
            roles.put("agent", bed.agentPid());
            roles.put("host manager + bench", ProcessHandle.current().pid());
            roles.put("peer", peer.pid());
            roles.put("app", app.pid());
            CpuAccount cpu = new CpuAccount(roles);
            // Cycle -1 warms up: the agent is a new JVM for each N, and its first handoff pays for
            // loading and compiling its code (C2 used about a core for seconds at N = 10,000) and
            // the JVM's one-time costs (compiler arenas, metaspace, Netty's buffer pools: about
            // 12 MB in NMT). Its totals are reported on their own; the table is of the cycles
            // after it. Memory is measured in the first of those.
            int measured = 0;
            MemoryProbe.Snapshot before = null;
            long agentRssBefore = 0;

            List<long[]> marks = new ArrayList<>();
            for (int c = -1; c < cycles; c++) {
                boolean warmUp = c < 0;
                if (c == measured) {
                    before = MemoryProbe.take();
                    agentRssBefore = MemoryProbe.rssOf(Long.toString(bed.agentPid()));
                }
                Map<String, Long> cpuAtHandoff = cpu.snapshot();
                long t0 = System.nanoTime();
                bed.order(new HandoffOrder(Selection.all()));
                LogCapture.Event handedOff = awaitEvent(capture, "handoff_done", t0, 300_000);
                Map<String, Long> cpuHandedOff = cpu.snapshot();
                if (!Integer.toString(n).equals(handedOff.field("handed_off"))) {
                    throw new IllegalStateException("handed off " + handedOff.message() + ", expected " + n);
                }
                if (c == 0 && Boolean.getBoolean("cycle.trace")) {
                    trace(capture, t0);
                }
                double handoffMillis = (handedOff.nanos() - t0) / 1e6;
                if (warmUp) {
                    result.coldHandoffMillis = handoffMillis;
                } else {
                    record(result, "handoff", CyclePhases.handoff(t0, capture.since(t0)), handoffMillis, cpuAtHandoff,
                            cpuHandedOff);
                }
                if (c == measured) {
                    capture.clear(); // the captured events are the benchmark's memory, not the host's
                    Thread.sleep(Math.min(holdMillis, 300));
                    result.memory = MemoryProbe.take().perConnection(before, n, bed.spooledBytes());
                    result.agentRssBefore = agentRssBefore;
                    result.agentRssHolding = MemoryProbe.rssOf(Long.toString(bed.agentPid()));
                }
                long held = t0 + holdMillis * 1_000_000L - System.nanoTime();
                if (held > 0) {
                    Thread.sleep(held / 1_000_000L);
                }
                Map<String, Long> cpuAtReclaim = cpu.snapshot();
                long t1 = System.nanoTime();
                bed.order(new ReclaimOrder());
                LogCapture.Event back = awaitEvent(capture, "reclaim_done", t1, 300_000);
                Map<String, Long> cpuReclaimed = cpu.snapshot();
                if (!Integer.toString(n).equals(back.field("conformed"))) {
                    throw new IllegalStateException("reclaimed " + back.message() + ", expected " + n);
                }
                if (c == 0 && Boolean.getBoolean("cycle.trace")) {
                    countEvents(capture, t1);
                }
                double reclaimMillis = (back.nanos() - t1) / 1e6;
                if (warmUp) {
                    result.coldReclaimMillis = reclaimMillis;
                } else {
                    record(result, "reclaim", CyclePhases.reclaim(t1, capture.since(t1)), reclaimMillis, cpuAtReclaim,
                            cpuReclaimed);
                    marks.add(new long[] {t0, handedOff.nanos(), t1, back.nanos()});
                }
                capture.clear();
                Thread.sleep(SETTLE_MILLIS); // the peer's retransmissions after reclaim, the app catching up
            }
            long end = System.nanoTime();
            for (int c = 0; c < marks.size(); c++) {
                long[] m = marks.get(c);
                long next = c + 1 < marks.size() ? marks.get(c + 1)[0] : end;
                long frozen = app.longestGapEndingIn("tick", m[0], next);
                result.samples.add("app frozen", frozen / 1e6);
                result.samples.add("app frozen beyond hold", (frozen - (m[2] - m[1])) / 1e6);
                result.samples.add("peer stall at handoff", peer.longestGapEndingIn("ack", m[0], m[2]) / 1e6);
                result.samples.add("peer stall at reclaim", peer.longestGapEndingIn("ack", m[2], next) / 1e6);
            }
            result.errors.addAll(app.errors());
            result.errors.addAll(peer.errors());
            app.stop();
            peer.stop();
        }
        System.err.printf("N=%d: floor ...%n", n);
        result.floor = FloorProbe.measure(n, Math.max(2, Math.min(cycles, 20_000 / Math.max(1, n))));
        return result;
    }

    /** One measured handoff or reclaim: its phases, its total ("handoff total") and the CPU used ("handoff|..."). */
    private static void record(SizeResult result, String step, Map<String, Double> phases, double totalMillis,
            Map<String, Long> cpuFrom, Map<String, Long> cpuTo) {
        result.samples.addAll(phases);
        result.samples.add(step + " total", totalMillis);
        CpuAccount.seconds(cpuFrom, cpuTo).forEach((key, seconds) -> result.cpu.add(step + "|" + key, seconds));
    }

    /** -Dcycle.trace=true: how many of each event the first reclaim logged, and when the first and last came. */
    private static void countEvents(LogCapture capture, long t1) {
        Map<String, long[]> byEvent = new LinkedHashMap<>();
        for (LogCapture.Event e : capture.since(t1)) {
            int at = e.message().indexOf("event=");
            String name = at < 0 ? "?" : e.message().substring(at + 6).split(" ", 2)[0];
            long[] stats = byEvent.computeIfAbsent(name, k -> new long[] {0, e.nanos(), 0});
            stats[0]++;
            stats[2] = e.nanos();
        }
        byEvent.forEach((name, stats) -> System.err.printf("  reclaim %-22s x%-6d first +%9.3f ms last +%9.3f ms%n", name,
                stats[0], (stats[1] - t1) / 1e6, (stats[2] - t1) / 1e6));
    }

    /** -Dcycle.trace=true: the first handoff's events (up to 60), ms after the order. */
    private static void trace(LogCapture capture, long t0) {
        List<LogCapture.Event> events = capture.since(t0);
        for (LogCapture.Event e : events.subList(0, Math.min(60, events.size()))) {
            System.err.printf("  +%9.3f ms %s %s%n", (e.nanos() - t0) / 1e6, e.logger(),
                    e.message().length() > 120 ? e.message().substring(0, 120) : e.message());
        }
    }

    private static LogCapture.Event awaitEvent(LogCapture capture, String event, long since, long timeoutMillis) throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (true) {
            LogCapture.Event e = capture.latest(event, since);
            if (e != null) {
                return e;
            }
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("no " + event + " within " + timeoutMillis + " ms");
            }
            Thread.sleep(2);
        }
    }
}
