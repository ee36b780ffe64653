package org.tcpferry.agent.core;

import java.io.Closeable;
import java.io.IOException;
import java.net.Inet4Address;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tcpferry.nft.Nftables;
import org.tcpferry.protocol.FlowKey;

/**
 * Keeps carried flows silent inside the guest while the host holds them: table
 * {@code inet tcpferry_agent} drops each flow's packets on input and output, matched by its 4-tuple
 * in a set per family. Loopback is always accepted: the peer FIN injection of a conform travels
 * over it. Every change is one nftables transaction, whatever the number of flows, applied through
 * one long-lived libnftables context ({@link Nftables}): no nft process is spawned.
 */
public final class GuestFirewall implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(GuestFirewall.class);
    public static final String TABLE = "tcpferry_agent";

    private static final String DEFINITION = """
            table inet tcpferry_agent {
              set flows4 { type ipv4_addr . inet_service . ipv4_addr . inet_service; }
              set flows6 { type ipv6_addr . inet_service . ipv6_addr . inet_service; }
              chain input { type filter hook input priority -10; policy accept;
                iifname "lo" accept
                ip saddr . tcp sport . ip daddr . tcp dport @flows4 drop
                ip6 saddr . tcp sport . ip6 daddr . tcp dport @flows6 drop
              }
              chain output { type filter hook output priority -10; policy accept;
                oifname "lo" accept
                ip daddr . tcp dport . ip saddr . tcp sport @flows4 drop
                ip6 daddr . tcp dport . ip6 saddr . tcp sport @flows6 drop
              }
            }
            """;

    private final Nftables nft;
    /** The flows in the sets now: unblocking a flow never blocked (a batch that failed half-way) is not an error. */
    private final Set<FlowKey> blocked = new HashSet<>();

    /** @param netns the namespace to act in (tests), or null for the agent's own */
    public GuestFirewall(Path netns) throws IOException {
        this.nft = Nftables.open(netns);
    }

    /** (Re)creates the table holding exactly {@code blocked}, atomically. */
    public void reset(Collection<FlowKey> flows) throws IOException {
        StringBuilder script = new StringBuilder("add table inet " + TABLE + "\ndelete table inet " + TABLE + "\n");
        script.append(DEFINITION);
        elements(script, "add", flows);
        blocked.clear();
        run("reset the guest table with " + Nftables.describe(flows), script.toString());
        blocked.addAll(flows);
    }

    public void block(Collection<FlowKey> flows) throws IOException {
        startBlocking(flows).await();
    }

    /**
     * Starts blocking {@code flows} and returns at once: the agent dumps one chunk while the
     * transaction that blocks the next runs on the nftables thread (each costs a few ms on a busy
     * machine). The flows count as blocked once {@link Change#await} returns; every change started
     * must be awaited, also when the caller fails, or a later unblock would skip its flows.
     */
    public Change startBlocking(Collection<FlowKey> flows) {
        List<FlowKey> fresh = flows.stream().filter(f -> !blocked.contains(f)).toList();
        return start("block", "add table inet " + TABLE + "\n", fresh, () -> blocked.addAll(fresh));
    }

    /** Unblocks {@code flows}; those not blocked are ignored. */
    public void unblock(Collection<FlowKey> flows) throws IOException {
        startUnblocking(flows).await();
    }

    /** Starts unblocking {@code flows} (those not blocked are ignored), as {@link #startBlocking} does. */
    public Change startUnblocking(Collection<FlowKey> flows) {
        List<FlowKey> present = flows.stream().filter(blocked::contains).toList();
        return start("unblock", "", present, () -> present.forEach(blocked::remove));
    }

    private Change start(String verb, String preamble, List<FlowKey> flows, Runnable applied) {
        if (flows.isEmpty()) {
            return new Change(null, 0, applied);
        }
        StringBuilder script = new StringBuilder(preamble);
        elements(script, verb.equals("block") ? "add" : "delete", flows);
        long lines = script.chars().filter(ch -> ch == '\n').count();
        return new Change(nft.submit(verb + " " + Nftables.describe(flows), script.toString()), lines, applied);
    }

    /** A change of the sets under way. */
    public final class Change {
        private Nftables.Pending pending;
        private final long lines;
        private final Runnable applied;

        private Change(Nftables.Pending pending, long lines, Runnable applied) {
            this.pending = pending;
            this.lines = lines;
            this.applied = applied;
        }

        /** True once the transaction ran: {@link #await} will not wait. */
        public boolean isDone() {
            return pending == null || pending.isDone();
        }

        /** Waits until the change is applied (or failed: then none of it is); returns at once the second time. */
        public void await() throws IOException {
            if (pending == null) {
                return;
            }
            Nftables.Pending running = pending;
            pending = null;
            running.await();
            applied.run();
            log.debug("event=nft lines={}", lines);
        }
    }

    /** Removes the table; nothing is blocked any more. */
    public void remove() throws IOException {
        blocked.clear();
        run("remove the guest table", "add table inet " + TABLE + "\ndelete table inet " + TABLE + "\n");
    }

    @Override
    public void close() {
        nft.close();
    }

    private static void elements(StringBuilder script, String verb, Collection<FlowKey> flows) {
        List<String> v4 = new ArrayList<>();
        List<String> v6 = new ArrayList<>();
        for (FlowKey f : flows) {
            String element = f.remote().getAddress().getHostAddress() + " . " + f.remote().getPort() + " . "
                    + f.local().getAddress().getHostAddress() + " . " + f.local().getPort();
            (f.remote().getAddress() instanceof Inet4Address ? v4 : v6).add(element);
        }
        if (!v4.isEmpty()) {
            script.append(verb).append(" element inet " + TABLE + " flows4 { ").append(String.join(", ", v4)).append(" }\n");
        }
        if (!v6.isEmpty()) {
            script.append(verb).append(" element inet " + TABLE + " flows6 { ").append(String.join(", ", v6)).append(" }\n");
        }
    }

    private void run(String operation, String script) throws IOException {
        nft.apply(operation, script);
        log.debug("event=nft lines={}", script.lines().count());
    }
}
