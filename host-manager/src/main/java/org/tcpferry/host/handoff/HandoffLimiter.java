package org.tcpferry.host.handoff;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.tcpferry.host.config.QuotaConfig;

/**
 * Per-domain admission of handoffs, so that one guest flooding the host with handoffs cannot
 * starve the others or exhaust the host: a token bucket (quotas.handoffsPerSecond, refilled
 * continuously, holding at most quotas.handoffBurst) and a ceiling on handoffs under way
 * (quotas.concurrentHandoffs). A refused handoff changes nothing; the caller answers RATE_LIMITED.
 */
public final class HandoffLimiter {
    private final double perNano;
    private final double burst;
    private final long concurrent;
    private final ConcurrentMap<String, Bucket> buckets = new ConcurrentHashMap<>();

    public HandoffLimiter(QuotaConfig quotas) {
        this.perNano = quotas.handoffsPerSecond() / 1e9;
        this.burst = quotas.handoffBurst();
        this.concurrent = quotas.concurrentHandoffs();
    }

    /**
     * Takes a token and a slot for one handoff of {@code domain}.
     * @return null when admitted (call {@link #done} once it finished), else why not
     */
    public String admit(String domain) {
        return buckets.computeIfAbsent(domain, d -> new Bucket(burst)).take();
    }

    /** A handoff admitted for {@code domain} finished, however it ended. */
    public void done(String domain) {
        buckets.get(domain).release();
    }

    private final class Bucket {
        private double tokens;
        private long refilledAt = System.nanoTime();
        private long underWay;

        Bucket(double tokens) {
            this.tokens = tokens;
        }

        synchronized String take() {
            long now = System.nanoTime();
            tokens = Math.min(burst, tokens + (now - refilledAt) * perNano);
            refilledAt = now;
            if (underWay >= concurrent) {
                return underWay + " handoffs are under way, the most one domain may have (quotas.concurrentHandoffs)";
            }
            if (tokens < 1) {
                return "more than " + Math.round(perNano * 1e9) + " handoffs per second after a burst of "
                        + Math.round(burst) + " (quotas.handoffsPerSecond, quotas.handoffBurst)";
            }
            tokens -= 1;
            underWay++;
            return null;
        }

        synchronized void release() {
            underWay--;
        }
    }
}
