package org.tcpferry.agent.core;

import java.util.ArrayList;
import java.util.List;

/**
 * The reports of the connections that came back, in order, for status and for the answer to a
 * reclaim order. Adding is O(1) (a copy-on-write list copied all earlier reports at each add: at
 * 10,000 connections that was a visible share of a reclaim), and only the most recent
 * {@value #KEPT} are kept, so a long-lived agent's memory and status stay bounded.
 */
final class CarriedReports {
    static final int KEPT = 100_000;

    private final List<CarriedReport> kept = new ArrayList<>();
    /** Reports ever added; the first kept one is number {@code added - kept.size()}. */
    private long added;

    synchronized void add(CarriedReport report) {
        if (kept.size() == KEPT) {
            kept.subList(0, KEPT / 2).clear(); // rarely, and in one move
        }
        kept.add(report);
        added++;
    }

    /** A mark to pass to {@link #since} later. */
    synchronized long mark() {
        return added;
    }

    /** The reports added after {@code mark} that are still kept, in order. */
    synchronized List<CarriedReport> since(long mark) {
        int first = (int) Math.max(0, kept.size() - (added - mark));
        return List.copyOf(kept.subList(first, kept.size()));
    }

    /** Every report kept, in order. */
    synchronized List<CarriedReport> all() {
        return List.copyOf(kept);
    }
}
