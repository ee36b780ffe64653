package org.tcpferry.bench.cycle;

import java.util.ArrayList;
import java.util.List;

/** What the benchmark measured for one N: phase samples, memory, the floor, and what went wrong. */
final class SizeResult {
    final int n;
    final int cycles;
    final String loadAverage;
    final Samples samples = new Samples();
    /** CPU seconds per cycle under "handoff|role: thread" and "reclaim|role: thread" (see {@link CpuAccount}). */
    final Samples cpu = new Samples();
    final List<String> errors = new ArrayList<>();
    MemoryProbe.PerConnection memory;
    FloorProbe.Result floor;
    long agentRssBefore;
    long agentRssHolding;
    /** The warm-up cycle's handoff and reclaim totals, ms (cold JVMs: not in the samples). */
    double coldHandoffMillis;
    double coldReclaimMillis;
    String failure;

    SizeResult(int n, int cycles, String loadAverage) {
        this.n = n;
        this.cycles = cycles;
        this.loadAverage = loadAverage;
    }

    static SizeResult failed(int n, String why) {
        SizeResult r = new SizeResult(n, 0, LoadAverage.read());
        r.failure = why;
        return r;
    }
}
