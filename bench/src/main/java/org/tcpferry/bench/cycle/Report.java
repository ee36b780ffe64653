package org.tcpferry.bench.cycle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/** The benchmark's Markdown report: phase table per N with the floor, memory, and the targets. */
final class Report {
    /** Which floor step each cycle phase is compared with. */
    static final Map<String, String> FLOOR_OF = new java.util.LinkedHashMap<>();

    static {
        FLOOR_OF.put("dump+copy live", "dump+copy live");
        FLOOR_OF.put(CyclePhases.AGENT_DUMP, "dump");
        FLOOR_OF.put("final dump+conform", "final dump+conform");
    }
    private static final List<String> OUTCOMES = List.of("handoff total", "reclaim total", "app frozen",
            "app frozen beyond hold", "peer stall at handoff", "peer stall at reclaim");

    private Report() {}

    static String markdown(Map<Integer, SizeResult> results, long holdMillis) {
        StringBuilder md = new StringBuilder();
        md.append("Machine: ").append(machine()).append("  \n");
        md.append("Hold between handoff and reclaim: ").append(holdMillis).append(" ms. Times in ms over all N connections;")
                .append(" median and p99 over the cycles (nearest rank: with few cycles p99 is the worst).\n\n");
        for (SizeResult r : results.values()) {
            md.append("### N = ").append(r.n).append("\n\n");
            md.append("Load average at start: ").append(r.loadAverage).append("; cycles: ").append(r.cycles)
                    .append(String.format(" after a warm-up cycle (handoff %.0f ms, reclaim %.0f ms, not in the table)",
                            r.coldHandoffMillis, r.coldReclaimMillis))
                    .append("\n\n");
            if (r.failure != null) {
                md.append("**Failed:** ").append(r.failure).append("\n\n");
                continue;
            }
            md.append("| phase | median ms | p99 ms | µs per connection | floor median ms | ratio to floor | ≤ 2× floor |\n");
            md.append("|---|---:|---:|---:|---:|---:|:---:|\n");
            List<String> rows = new ArrayList<>();
            rows.addAll(CyclePhases.HANDOFF);
            rows.add(rows.indexOf("dump+copy live") + 1, CyclePhases.AGENT_DUMP);
            rows.add("handoff total");
            rows.addAll(CyclePhases.RECLAIM);
            rows.addAll(OUTCOMES.subList(1, OUTCOMES.size()));
            for (String phase : rows) {
                if (!r.samples.has(phase)) {
                    continue;
                }
                double median = r.samples.median(phase);
                String floorStep = FLOOR_OF.get(phase);
                String floor = "", ratio = "", ok = "";
                if (floorStep != null && r.floor != null && r.floor.samples().has(floorStep)) {
                    double f = r.floor.samples().median(floorStep);
                    floor = fmt(f);
                    ratio = String.format("%.2f", median / f);
                    ok = median <= 2 * f ? "yes" : "**no**";
                }
                boolean perConnection = CyclePhases.HANDOFF.contains(phase) || CyclePhases.RECLAIM.contains(phase) || phase.equals(CyclePhases.AGENT_DUMP)
                        || phase.endsWith("total");
                md.append(String.format("| %s | %s | %s | %s | %s | %s | %s |%n", phase, fmt(median), fmt(r.samples.p99(phase)),
                        perConnection ? fmt(median * 1000 / r.n) : "", floor, ratio, ok));
            }
            md.append('\n');
            if (r.memory != null) {
                md.append(String.format("Memory while holding: host manager process %+.0f B heap and %+.0f B RSS per connection beyond"
                        + " %d spooled bytes; agent process RSS %.1f MB before, %.1f MB holding (%+.0f B per connection).%n%n",
                        r.memory.heapBytes(), r.memory.rssBytes(), r.memory.spooledBytes(), r.agentRssBefore / 1e6,
                        r.agentRssHolding / 1e6, (r.agentRssHolding - r.agentRssBefore) / (double) r.n));
            }
            if (r.n >= 1000) {
                md.append(cpuTable(r));
            }
            if (!r.errors.isEmpty()) {
                md.append("Stream errors: ").append(String.join("; ", r.errors.subList(0, Math.min(5, r.errors.size()))))
                        .append(r.errors.size() > 5 ? " (" + r.errors.size() + " in all)" : "").append("\n\n");
            }
        }
        md.append(targets(results));
        return md.toString();
    }

    private static String targets(Map<Integer, SizeResult> results) {
        StringBuilder md = new StringBuilder("### Targets\n\n| target | measured | met |\n|---|---|:---:|\n");
        SizeResult largest = null;
        for (SizeResult r : results.values()) {
            if (r.failure == null && (largest == null || r.n > largest.n)) {
                largest = r;
            }
        }
        if (largest == null) {
            return md.append("| all | no N completed | **no** |\n").toString();
        }
        String at = "N = " + largest.n + (largest.n < 10_000 ? " (largest that completed; 10,000 did not)" : "");
        for (String total : List.of("handoff total", "reclaim total")) {
            double m = largest.samples.median(total);
            md.append(String.format("| 10,000 connections %s in ≤ 500 ms | %s: median %s ms, p99 %s ms | %s |%n",
                    total.startsWith("handoff") ? "handed off" : "reclaimed", at, fmt(m), fmt(largest.samples.p99(total)),
                    largest.n >= 10_000 && largest.samples.p99(total) <= 500 ? "yes" : "**no**"));
        }
        if (largest.floor != null) {
            for (Map.Entry<String, String> e : List.copyOf(FLOOR_OF.entrySet())) {
                if (largest.samples.has(e.getKey()) && largest.floor.samples().has(e.getValue())) {
                    double ratio = largest.samples.median(e.getKey()) / largest.floor.samples().median(e.getValue());
                    md.append(String.format("| %s per connection ≤ 2× floor | %s: %.2f× | %s |%n", e.getKey(), at, ratio,
                            ratio <= 2 ? "yes" : "**no**"));
                }
            }
        }
        SizeResult one = results.get(1);
        if (one != null && one.failure == null) {
            md.append(String.format("| one-connection reclaim stall ≤ 50 ms | median %s ms, p99 %s ms | %s |%n",
                    fmt(one.samples.median("peer stall at reclaim")), fmt(one.samples.p99("peer stall at reclaim")),
                    one.samples.p99("peer stall at reclaim") <= 50 ? "yes" : "**no**"));
        }
        if (largest.memory != null) {
            double worst = Math.max(largest.memory.heapBytes(), largest.memory.rssBytes());
            md.append(String.format("| host manager ≤ 2 KB per held connection beyond its spool | %s: %.0f B heap, %.0f B RSS"
                    + " (upper bound: same process as the benchmark) | %s |%n", at, largest.memory.heapBytes(),
                    largest.memory.rssBytes(), worst <= 2048 ? "yes" : "**no**"));
        }
        return md.append('\n').toString();
    }

    /** Where the CPU went during the handoffs and reclaims of one N (see {@link CpuAccount}), medians over the cycles. */
    private static String cpuTable(SizeResult r) {
        List<String> keys = new ArrayList<>();
        for (String name : r.cpu.names()) {
            String key = name.substring(name.indexOf('|') + 1);
            if (!keys.contains(key)) {
                keys.add(key);
            }
        }
        Comparator<String> mostUsed = Comparator.comparingDouble(
                (String key) -> cpuMedian(r, "handoff|" + key) + cpuMedian(r, "reclaim|" + key)).reversed();
        List<String> rows = new ArrayList<>(keys.stream().filter(k -> k.endsWith(": all")).sorted(mostUsed).toList());
        rows.addAll(keys.stream().filter(k -> !k.endsWith(": all")).sorted(mostUsed).limit(12).toList());
        StringBuilder md = new StringBuilder();
        md.append(String.format("CPU used, s (median over the cycles; two cores give %.2f s during the median handoff and"
                + " %.2f s during the median reclaim):%n%n", 2 * r.samples.median("handoff total") / 1000,
                2 * r.samples.median("reclaim total") / 1000));
        md.append("| process: thread | handoff s | µs per connection | reclaim s | µs per connection |\n|---|---:|---:|---:|---:|\n");
        for (String key : rows) {
            double h = cpuMedian(r, "handoff|" + key);
            double c = cpuMedian(r, "reclaim|" + key);
            String label = key.endsWith(": all") ? "**" + key.replace(": all", "") + "** (all threads)" : key;
            md.append(String.format("| %s | %.2f | %.0f | %.2f | %.0f |%n", label, h, h * 1e6 / r.n, c, c * 1e6 / r.n));
        }
        return md.append('\n').toString();
    }

    private static double cpuMedian(SizeResult r, String name) {
        return r.cpu.has(name) ? r.cpu.median(name) : 0;
    }

    static String fmt(double ms) {
        return ms >= 100 ? String.format("%.0f", ms) : ms >= 10 ? String.format("%.1f", ms) : String.format("%.2f", ms);
    }

    static String machine() {
        String cpu = org.tcpferry.bench.LocalMachine.cpuModel();
        long memKb = 0;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    memKb = Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException e) {
            System.err.println("cannot read /proc/meminfo: " + e.getMessage());
        }
        return String.format("Linux %s, %d cores (%s), %d GB, Java %s", System.getProperty("os.version"),
                Runtime.getRuntime().availableProcessors(), cpu, memKb / 1024 / 1024, System.getProperty("java.version"));
    }
}
