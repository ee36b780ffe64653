package org.tcpferry.bench.cycle;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Cuts one handoff and one reclaim into phases from the events the agent and host manager log
 * (see {@link LogCapture}). A phase ends at the log event that follows its last step; where
 * the code logs nothing between two steps they are one phase here (named with a "+").
 */
final class CyclePhases {
    static final List<String> HANDOFF = List.of("select", "freeze", "block flow", "dump+copy live", "steer", "accept");
    /** The agent's own dump-and-send time (all N), which overlaps the host's restores. */
    static final String AGENT_DUMP = "of which agent dump+send";
    static final List<String> RECLAIM = List.of("stop", "unsteer", "final dump+conform", "unblock", "thaw");

    private CyclePhases() {}

    /**
     * Handoff, from the order leaving host A ({@code t0}) to the agent's {@code handoff_done}.
     * <ul>
     *   <li>select: to the agent's {@code handoff_order} (candidates found in /proc, owners known);</li>
     *   <li>freeze: to the agent's last {@code frozen} (debug) event (journal, fresh guest table, owners stopped);</li>
     *   <li>block flow: to the guest firewall's next {@code nft} event (the flow block);</li>
     *   <li>dump+copy live: to the last {@code copy_restored}. The agent sends each request right
     *       after its dump, so the host restores copies while the agent dumps the rest; the agent's
     *       own share is reported apart ({@value #AGENT_DUMP}, its {@code dump_send_ms}: without its
     *       waits for the firewall and the host's answers; ms resolution);</li>
     *   <li>steer: to the last {@code holding} (the copy is steered);</li>
     *   <li>accept: to {@code handoff_done} (HANDED_OFF journaled, HandoffComplete, settle).</li>
     * </ul>
     */
    static Map<String, Double> handoff(long t0, List<LogCapture.Event> events) {
        LogCapture.Event done = first(events, e -> e.is("handoff_done"), t0);
        long firstCopy = first(events, e -> e.is("copy_restored"), t0).nanos();
        long selected = first(events, e -> e.is("handoff_order"), t0).nanos();
        long frozen = last(events, e -> e.is("frozen"), t0, firstCopy).nanos();
        long blocked = first(events, e -> e.is("nft") && e.logger().endsWith("GuestFirewall"), frozen).nanos();
        long restored = last(events, e -> e.is("copy_restored"), t0, done.nanos()).nanos();
        long holding = last(events, e -> e.is("holding"), t0, done.nanos()).nanos();
        Map<String, Double> phases = cut(HANDOFF, t0, selected, frozen, blocked, restored, holding, done.nanos());
        String dumpSend = done.field("dump_send_ms");
        if (dumpSend != null) {
            phases.put(AGENT_DUMP, Double.parseDouble(dumpSend));
        }
        return phases;
    }

    /**
     * Reclaim, from the order leaving host A ({@code t0}) to the agent's {@code reclaim_done}.
     * The agent keeps a window of release requests out and lets each connection go as its confirm
     * is acknowledged, so after the first request the steps of different connections overlap;
     * the phases are cut at the first of each step, then at the last release:
     * <ul>
     *   <li>stop: to the host's first {@code hold_state ... state=RELEASING} (the first request in);</li>
     *   <li>unsteer: to the first {@code unsteer_batch} (debug);</li>
     *   <li>final dump+conform: to the last {@code state=RELEASED}: the other requests, unsteers,
     *       the copies dumped and closed, grants, every original conformed and confirmed, and the
     *       flows let go so far. Neither side logs between the host's dumps and the agent's
     *       conforms, so from outside they are one phase;</li>
     *   <li>unblock: to the guest firewall's next {@code nft} event (the last connections' flows);</li>
     *   <li>thaw: to the agent's next {@code thawed} (debug) event (owners thawed, the unit list journaled).</li>
     * </ul>
     */
    static Map<String, Double> reclaim(long t0, List<LogCapture.Event> events) {
        long done = first(events, e -> e.is("reclaim_done"), t0).nanos();
        long releasing = first(events, e -> e.is("hold_state") && "RELEASING".equals(e.field("state")), t0).nanos();
        long unsteered = first(events, e -> e.is("unsteer_batch"), t0).nanos();
        long lastReleased = last(events, e -> e.is("hold_state") && "RELEASED".equals(e.field("state")), t0, done).nanos();
        long unblocked = first(events, e -> e.is("nft") && e.logger().endsWith("GuestFirewall"), lastReleased).nanos();
        long thawed = first(events, e -> e.is("thawed"), unblocked).nanos();
        return cut(RECLAIM, t0, releasing, unsteered, lastReleased, unblocked, thawed);
    }

    /** Durations in ms between consecutive marks; a mark before its predecessor counts as 0. */
    private static Map<String, Double> cut(List<String> names, long... marks) {
        Map<String, Double> out = new LinkedHashMap<>();
        long previous = marks[0];
        for (int i = 0; i < names.size(); i++) {
            long mark = Math.max(previous, marks[i + 1]);
            out.put(names.get(i), (mark - previous) / 1e6);
            previous = mark;
        }
        return out;
    }

    private static LogCapture.Event first(List<LogCapture.Event> events, Predicate<LogCapture.Event> p, long from) {
        for (LogCapture.Event e : events) {
            if (e.nanos() >= from && p.test(e)) {
                return e;
            }
        }
        throw new IllegalStateException("no log event found after the mark: is the agent's or host's logging different?");
    }

    private static LogCapture.Event last(List<LogCapture.Event> events, Predicate<LogCapture.Event> p, long from, long to) {
        LogCapture.Event found = null;
        for (LogCapture.Event e : events) {
            if (e.nanos() >= from && e.nanos() <= to && p.test(e)) {
                found = e;
            }
        }
        if (found == null) {
            throw new IllegalStateException("no log event found between the marks: is the agent's or host's logging different?");
        }
        return found;
    }
}
