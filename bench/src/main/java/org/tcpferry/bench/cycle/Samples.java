package org.tcpferry.bench.cycle;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Named series of samples (ms), in the order first added, with median and p99 (nearest rank). */
final class Samples {
    private final Map<String, List<Double>> series = new LinkedHashMap<>();

    void add(String name, double value) {
        series.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
    }

    void addAll(Map<String, Double> values) {
        values.forEach(this::add);
    }

    boolean has(String name) {
        return series.containsKey(name) && !series.get(name).isEmpty();
    }

    List<String> names() {
        return List.copyOf(series.keySet());
    }

    double median(String name) {
        return percentile(name, 0.50);
    }

    double p99(String name) {
        return percentile(name, 0.99);
    }

    int count(String name) {
        return series.getOrDefault(name, List.of()).size();
    }

    private double percentile(String name, double q) {
        double[] v = series.get(name).stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(v);
        return v[Math.min(v.length - 1, (int) Math.ceil(q * v.length) - 1 < 0 ? 0 : (int) Math.ceil(q * v.length) - 1)];
    }
}
