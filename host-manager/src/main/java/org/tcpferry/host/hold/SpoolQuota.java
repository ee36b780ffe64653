package org.tcpferry.host.hold;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The spool limit of one domain: all its connections draw from one budget, and each connection
 * also has its own ceiling. Thread-safe, since a domain's connections may be served by
 * different namespace loops.
 */
public final class SpoolQuota {
    private final long perConnection;
    private final long perDomain;
    private final AtomicLong used = new AtomicLong();

    public SpoolQuota(long perConnection, long perDomain) {
        this.perConnection = perConnection;
        this.perDomain = perDomain;
    }

    /** How many more bytes a connection that spooled {@code spooled} so far may take now. */
    public long room(long spooled) {
        return Math.max(0, Math.min(perConnection - spooled, perDomain - used.get()));
    }

    /** Records {@code bytes} as spooled. */
    public void take(long bytes) {
        used.addAndGet(bytes);
    }

    /** Gives back what a released or failed connection had spooled. */
    public void give(long bytes) {
        used.addAndGet(-bytes);
    }

    public long used() {
        return used.get();
    }

    public long perConnection() {
        return perConnection;
    }
}
