package org.tcpferry.host.steer;

import java.io.Closeable;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tcpferry.host.config.DomainConfig;
import org.tcpferry.netns.NetNamespace;
import org.tcpferry.sys.LinkAnnouncer;

/**
 * Draws a guest's frames to this host while it holds copies for a guest that runs elsewhere
 * ({@code --hold-on}): it announces the guest's MACs on the domain's bridge, so the switches of the
 * segment deliver the peer's packets here, where the steering rules take the held flows. The burst
 * follows QEMU's announce-self (now, then after 50, 150 and 250 ms more); a burst per domain at most
 * once a second, since a handoff of N connections would otherwise ask N times.
 */
public final class GuestAnnouncer implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(GuestAnnouncer.class);
    private static final long[] BURST_MILLIS = {0, 50, 200, 450};
    private static final long MIN_GAP_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "guest-announcer");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Long> lastBurst = new ConcurrentHashMap<>();

    /** Announces {@code domain}'s MACs on its bridge soon, unless that was done within the last second. */
    public void guestHeldHere(DomainConfig domain) {
        long now = System.nanoTime();
        Long last = lastBurst.get(domain.name());
        if (last != null && now - last < MIN_GAP_NANOS) {
            return;
        }
        lastBurst.put(domain.name(), now);
        if (domain.macs().isEmpty()) {
            log.warn("event=no_announce domain={} why=\"no MAC addresses configured or discovered: the peer's packets "
                    + "reach this host only where the network already sends them\"", domain.name());
            return;
        }
        for (long delay : BURST_MILLIS) {
            timer.schedule(() -> announce(domain), delay, TimeUnit.MILLISECONDS);
        }
    }

    private static void announce(DomainConfig domain) {
        try (LinkAnnouncer announcer = domain.netnsPath() == null ? LinkAnnouncer.on(domain.bridge())
                : NetNamespace.at(domain.netnsPath()).call(() -> LinkAnnouncer.on(domain.bridge()))) {
            for (String mac : domain.macs()) {
                announcer.announce(mac);
            }
            log.info("event=announced domain={} bridge={} macs={}", domain.name(), domain.bridge(), domain.macs());
        } catch (Exception e) {
            log.error("event=announce_failed domain={} bridge={} error=\"{}\"", domain.name(), domain.bridge(),
                    e.toString());
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
