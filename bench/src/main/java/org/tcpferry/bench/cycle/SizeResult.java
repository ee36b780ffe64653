package org.tcpferry.bench.cycle;

import java.util.ArrayList;
import java.util.List;

/** What the benchmark measured for one N: phase samples, memory, the floor, and what went wrong. */
final class SizeResult {
    final int n;
    final int cycles;
    final String loadAverage;
    final Samples samples = new Samples();
    final List<String> errors = new ArrayList<>();
    MemoryProbe.PerConnection memory;
    FloorProbe.Result floor;
    long agentRssBefore;
    long agentRssHolding;
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
