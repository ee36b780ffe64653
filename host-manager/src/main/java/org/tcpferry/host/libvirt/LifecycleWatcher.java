package org.tcpferry.host.libvirt;

import java.io.Closeable;
import java.io.IOException;
import org.libvirt.Library;
import org.libvirt.LibvirtException;
import org.libvirt.event.DomainEvent;
import org.libvirt.event.DomainEventType;
import org.libvirt.event.LifecycleListener;
import org.libvirt.event.StartedDetail;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches libvirt's lifecycle events and reports the two things the host manager acts on: a domain
 * appeared here (DEFINED, STARTED, RESUMED: it may be one this host does not know yet, such as one
 * arriving by migration), and its guest runs again on this host: RESUMED (after a suspend, and at
 * the end of an incoming migration), or STARTED other than MIGRATED (a restore; an incoming
 * migration's STARTED comes before its memory has arrived).
 * libvirt-java needs its event loop initialised before the connection is opened and run on a
 * thread of its own; this class owns that thread.
 */
public final class LifecycleWatcher implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(LifecycleWatcher.class);
    private static boolean loopStarted;

    /** What the host manager hears; called on libvirt's event thread, so it must not block. */
    @FunctionalInterface
    public interface Listener {
        /**
         * @param domain the domain's name
         * @param event libvirt's event, as text for the log
         * @param runsAgain whether the guest executes again on this host ({@link #runsAgain(DomainEvent)})
         */
        void domainEvent(String domain, String event, boolean runsAgain);
    }

    private final LibvirtSession session;
    private final LifecycleListener listener;

    private LifecycleWatcher(LibvirtSession session, LifecycleListener listener) {
        this.session = session;
        this.listener = listener;
    }

    /** Connects to {@code uri} and tells {@code heard} of every event that {@link #matters}, from libvirt's event thread. */
    public static LifecycleWatcher start(String uri, Listener heard) throws IOException {
        startEventLoop();
        LibvirtSession session = LibvirtSession.open(uri);
        LifecycleListener listener = (domain, event) -> {
            try {
                String name = domain.getName();
                log.info("event=libvirt_lifecycle domain={} type={} detail={}", name, event.getType(), detailOf(event));
                if (matters(event)) {
                    heard.domainEvent(name, event.toString(), runsAgain(event));
                }
            } catch (LibvirtException | RuntimeException e) {
                log.error("event=libvirt_event_failed error=\"{}\"", e.toString(), e);
            }
            return 0;
        };
        try {
            session.connect().addLifecycleListener(listener);
        } catch (LibvirtException e) {
            session.close();
            throw new LibvirtFailure("listen to lifecycle events on " + uri, e);
        }
        log.info("event=libvirt_watching uri={}", uri);
        return new LifecycleWatcher(session, listener);
    }

    /** Whether {@code event} can mean a domain new to this host, or a guest that runs again. */
    static boolean matters(DomainEvent event) {
        DomainEventType type = event.getType();
        return type == DomainEventType.DEFINED || type == DomainEventType.STARTED || type == DomainEventType.RESUMED;
    }

    /** Whether {@code event} means the guest executes again on this host. */
    static boolean runsAgain(DomainEvent event) {
        if (event.getType() == DomainEventType.RESUMED) {
            return true;
        }
        return event.getType() == DomainEventType.STARTED && detailOf(event) != StartedDetail.MIGRATED;
    }

    private static Object detailOf(DomainEvent event) {
        return event.getDetail();
    }

    /** libvirt's event loop is process-wide: initialised once, before any connection that wants events. */
    private static synchronized void startEventLoop() throws LibvirtFailure {
        if (loopStarted) {
            return;
        }
        try {
            Library.initEventLoop();
        } catch (LibvirtException e) {
            throw new LibvirtFailure("initialise libvirt's event loop", e);
        }
        Thread loop = new Thread(() -> {
            try {
                Library.runEventLoop();
            } catch (LibvirtException e) {
                log.error("event=libvirt_event_loop_failed error=\"{}\"", e.toString(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "libvirt-events");
        loop.setDaemon(true);
        loop.start();
        loopStarted = true;
    }

    @Override
    public void close() throws IOException {
        try {
            session.connect().removeLifecycleListener(listener);
        } catch (LibvirtException e) {
            throw new LibvirtFailure("stop listening to lifecycle events", e);
        } finally {
            session.close();
        }
    }
}
