package org.tcpferry.host.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.function.LongSupplier;

/** The host manager's Prometheus metrics, in a registry of their own (no JVM default collectors). */
public final class HostMetrics {
    private static final double[] LATENCY_BUCKETS = {
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Histogram handoffSeconds;
    private final Histogram releaseSeconds;
    private final Counter refusals;
    private final Counter expired;

    /**
     * @param heldConnections the number of connections held now
     * @param spooledBytes bytes spooled now, over all connections
     */
    public HostMetrics(LongSupplier heldConnections, LongSupplier spooledBytes) {
        GaugeWithCallback.builder().name("tcpferry_held_connections").help("Connections the host holds now")
                .callback(cb -> cb.call(heldConnections.getAsLong())).register(registry);
        GaugeWithCallback.builder().name("tcpferry_spooled_bytes").help("Bytes spooled from peers, not yet handed back")
                .callback(cb -> cb.call(spooledBytes.getAsLong())).register(registry);
        handoffSeconds = Histogram.builder().name("tcpferry_handoff_seconds")
                .help("From HandoffRequest received to HandoffAccepted sent (copy restored and steered)")
                .classicUpperBounds(LATENCY_BUCKETS).register(registry);
        releaseSeconds = Histogram.builder().name("tcpferry_release_seconds")
                .help("From ReleaseRequest received to ReleaseGranted sent (unsteered, dumped, closed)")
                .classicUpperBounds(LATENCY_BUCKETS).register(registry);
        refusals = Counter.builder().name("tcpferry_refusals_total").help("Requests refused, by error code")
                .labelNames("code").register(registry);
        expired = Counter.builder().name("tcpferry_expired_total")
                .help("Held connections nobody reclaimed within quotas.holdSeconds; the copy reset the peer")
                .register(registry);
    }

    public void expired() {
        expired.inc();
    }

    public void handoff(long nanos) {
        handoffSeconds.observe(nanos / 1e9);
    }

    public void release(long nanos) {
        releaseSeconds.observe(nanos / 1e9);
    }

    public void refused(String code) {
        refusals.labelValues(code).inc();
    }

    public PrometheusRegistry registry() {
        return registry;
    }
}
