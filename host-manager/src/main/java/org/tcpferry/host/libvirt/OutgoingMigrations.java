package org.tcpferry.host.libvirt;

import java.io.Closeable;
import java.io.IOException;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices an outgoing migration of a domain while its guest still runs here, so the host manager
 * can hand its connections off whoever started the migration (virsh, an orchestrator).
 *
 * <p>Why polling: libvirt announces an outgoing migration to nobody in time. No hook runs on the
 * source before the guest stops, and the first lifecycle event (SUSPENDED, MIGRATED) comes when the
 * switch-over has already paused the vCPUs, when the agent can no longer run. What libvirt does have
 * from the first moment is the domain's async job, whose stats name its operation (MIGRATION_OUT);
 * during the precopy (seconds for a busy guest) the guest runs, and one poll interval later the
 * agent can be ordered to hand off. Only domains whose agent is connected here are polled: one
 * job-stats call each per interval.
 *
 * <p>Best effort, by design: a migration that converges before the handoff is through may pause the
 * guest mid-handoff; the agent then finishes or rolls back as after any lost channel, and the
 * connections are carried or not. {@code tcpferry migrate}, which hands off before it migrates,
 * is the way to be sure.
 */
public final class OutgoingMigrations implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(OutgoingMigrations.class);

    /** What the host manager does about what this class notices; called on the poll thread, must not block. */
    public interface Listener {
        /** An outgoing migration of {@code domain} started while its guest runs here. */
        void migrationStarted(String domain);

        /** That migration ended and the guest still runs here: it failed or was cancelled. */
        void migrationEndedHere(String domain);
    }

    private final String uri;
    private final Supplier<Collection<String>> watched;
    private final Listener listener;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "libvirt-migrations");
        t.setDaemon(true);
        return t;
    });
    private final Set<String> migrating = new HashSet<>(); // poll thread only
    private LibvirtSession session; // poll thread only; reopened after a failure
    private boolean failing; // poll thread only: log a failure once, not every interval

    private OutgoingMigrations(String uri, Supplier<Collection<String>> watched, Listener listener) {
        this.uri = uri;
        this.watched = watched;
        this.listener = listener;
    }

    /**
     * Polls every {@code intervalMillis} the domains {@code watched} names (those whose agent is
     * connected here).
     */
    public static OutgoingMigrations start(String uri, long intervalMillis, Supplier<Collection<String>> watched,
            Listener listener) {
        OutgoingMigrations watch = new OutgoingMigrations(uri, watched, listener);
        watch.thread.scheduleWithFixedDelay(watch::poll, intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
        log.info("event=watching_outgoing_migrations uri={} interval_ms={}", uri, intervalMillis);
        return watch;
    }

    private void poll() {
        try {
            if (session == null) {
                session = LibvirtSession.open(uri);
            }
            Collection<String> domains = watched.get();
            // A domain whose agent channel closed has left (a completed migration) or stopped: forget it.
            migrating.retainAll(domains);
            for (String domain : domains) {
                boolean out = session.migratingOut(domain);
                if (out && migrating.add(domain)) {
                    listener.migrationStarted(domain);
                } else if (!out && migrating.remove(domain) && session.runsHere(domain)) {
                    listener.migrationEndedHere(domain);
                }
            }
            failing = false;
        } catch (IOException | RuntimeException e) {
            if (!failing) {
                log.error("event=migration_poll_failed uri={} error=\"{}\" consequence=\"no automatic handoff until "
                        + "libvirt answers again\"", uri, e.getMessage());
                failing = true;
            }
            closeSession();
        }
    }

    private void closeSession() {
        if (session != null) {
            try {
                session.close();
            } catch (IOException e) {
                log.warn("event=libvirt_close_failed uri={} error=\"{}\"", uri, e.getMessage());
            }
            session = null;
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
        try {
            thread.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeSession();
    }
}
