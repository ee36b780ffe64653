package org.tcpferry.host.config;

/**
 * How much a held connection may spool. When a connection's spool is full the copy stops
 * reading, so its receive window closes and the peer waits (or gives up, if it has a user timeout).
 *
 * @param connectionSpoolBytes most bytes spooled for one connection
 * @param domainSpoolBytes most bytes spooled for all connections of one domain
 * @param memoryPerConnectionBytes bytes kept in memory before a connection's spool moves to a file
 * @param spoolDir where spool files live (created 0700 if absent)
 * @param holdSeconds how long a copy may hold a connection that nobody reclaims; then the copy
 *     resets the peer and everything is freed (0: never)
 * @param handoffsPerSecond handoffs one domain may start per second, on average
 * @param handoffBurst handoffs one domain may start at once before the rate applies
 * @param concurrentHandoffs handoffs of one domain under way at the same time; more are refused
 *     (RATE_LIMITED) until some finish
 */
public record QuotaConfig(Long connectionSpoolBytes, Long domainSpoolBytes, Long memoryPerConnectionBytes,
        String spoolDir, Long holdSeconds, Long handoffsPerSecond, Long handoffBurst, Long concurrentHandoffs) {

    public static final long MIB = 1024L * 1024;

    public QuotaConfig {
        connectionSpoolBytes = positive(connectionSpoolBytes, 64 * MIB, "connectionSpoolBytes");
        domainSpoolBytes = positive(domainSpoolBytes, 1024 * MIB, "domainSpoolBytes");
        memoryPerConnectionBytes = positive(memoryPerConnectionBytes, 8 * MIB, "memoryPerConnectionBytes");
        spoolDir = spoolDir == null ? "/var/lib/tcpferry/spool" : spoolDir;
        // A day covers any save, restore or migration; a copy held longer means nobody is coming back.
        holdSeconds = positive(holdSeconds, 24 * 3600, "holdSeconds");
        // Generous enough for a guest handing off thousands of connections in one order; a guest
        // that loops on handoffs is held to this.
        handoffsPerSecond = positive(handoffsPerSecond, 2000, "handoffsPerSecond");
        handoffBurst = positive(handoffBurst, 10_000, "handoffBurst");
        concurrentHandoffs = positive(concurrentHandoffs, 10_000, "concurrentHandoffs");
    }

    /** The quotas with the default handoff limits. */
    public QuotaConfig(Long connectionSpoolBytes, Long domainSpoolBytes, Long memoryPerConnectionBytes, String spoolDir,
            Long holdSeconds) {
        this(connectionSpoolBytes, domainSpoolBytes, memoryPerConnectionBytes, spoolDir, holdSeconds, null, null, null);
    }

    /** The quotas with the default hold limit. */
    public QuotaConfig(Long connectionSpoolBytes, Long domainSpoolBytes, Long memoryPerConnectionBytes, String spoolDir) {
        this(connectionSpoolBytes, domainSpoolBytes, memoryPerConnectionBytes, spoolDir, null);
    }

    public static QuotaConfig defaults() {
        return new QuotaConfig(null, null, null, null, null, null, null, null);
    }

    private static Long positive(Long value, long fallback, String name) {
        if (value == null) {
            return fallback;
        }
        if (value < 0) {
            throw new IllegalArgumentException("quotas." + name + " must not be negative: " + value);
        }
        return value;
    }
}
