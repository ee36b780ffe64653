package org.tcpferry.host.steer;

import java.io.Closeable;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tcpferry.host.config.SteeringConfig;
import org.tcpferry.nft.Nftables;
import org.tcpferry.protocol.FlowKey;

/**
 * Diverts chosen flows from a guest's bridge port to the host's own stack, where the copy socket
 * owns them (kernel-notes item 12). One instance per network namespace, owning the
 * {@code bridge tcpferry} and {@code inet tcpferry} tables and one ip rule + route pair per family.
 *
 * <p>In the {@code bridge} table each bridge has a prerouting chain and two sets (IPv4, IPv6) of
 * flows <em>from the peer to the guest</em>, keyed {@code saddr . sport . daddr . dport}. A match
 * gets the steering mark, the bridge's own MAC as destination, and pkttype host (without which IP
 * drops the frame as OTHERHOST). The ip rule {@code fwmark MARK lookup TABLE} with
 * {@code local 0.0.0.0/0 dev lo} in that table delivers the packet locally. The {@code inet} table
 * takes marked packets out of conntrack, which has never seen these connections' handshakes.
 *
 * <p>Every {@link #steer} and {@link #unsteer} is one nftables transaction, applied through a
 * long-lived libnftables context ({@link Nftables}) instead of an nft process each. Each steer
 * re-reads the bridge MAC and rewrites the bridge's rule with it: a bridge without a fixed MAC
 * takes its lowest port MAC, which changes when a port leaves (kernel-notes item 12).
 */
public final class FlowSteering implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(FlowSteering.class);
    static final String TABLE = "tcpferry";

    private final NamespaceShell shell;
    /** One long-lived nftables context in the namespace: a steer or unsteer spawns no process. */
    private final Nftables nft;
    private final SteeringConfig config;
    private final InterfaceMac macs;
    private final Map<String, Set<FlowKey>> steeredByBridge = new HashMap<>();
    /**
     * The MAC each bridge's rules were last written with. A steer rewrites the chain only when the
     * bridge's MAC differs (or the chain is not known to exist): flushing and re-adding the rules
     * made each transaction about 8 ms instead of 1, at 10,000 flows most of the steering's cost.
     */
    private final Map<String, String> macInRules = new HashMap<>();
    private boolean closed;

    private FlowSteering(NamespaceShell shell, Nftables nft, SteeringConfig config, InterfaceMac macs) {
        this.shell = shell;
        this.nft = nft;
        this.config = config;
        this.macs = macs;
    }

    /** Creates the tables, ip rules and routes in {@code shell}'s namespace, replacing leftovers of a crashed run. */
    public static FlowSteering start(NamespaceShell shell, SteeringConfig config) throws IOException {
        return start(shell, config, Map.of());
    }

    /**
     * Like {@link #start}, for a restart that adopts copies a keeper kept alive: {@code stillHeld}
     * (bridge to flows) stay steered throughout. Tables are rebuilt with exactly those flows in one
     * nft transaction, and the ip rules and routes are kept, so that no packet of a held flow
     * reaches the guest, whose socket may no longer know the connection, and draws a reset.
     */
    public static FlowSteering start(NamespaceShell shell, SteeringConfig config,
            Map<String, ? extends Collection<FlowKey>> stillHeld) throws IOException {
        Nftables nft = Nftables.open(shell.netns());
        FlowSteering steering;
        try {
            steering = new FlowSteering(shell, nft, config, InterfaceMac.in(shell.netns()));
        } catch (IOException | RuntimeException e) {
            nft.close();
            throw e;
        }
        try {
            if (stillHeld.isEmpty()) {
                steering.removeAll(); // a previous daemon that died may have left them; its copies died with it
                nft.apply("create the steering tables", steering.baseTables());
                steering.addRules();
            } else {
                steering.rebuildKeeping(stillHeld);
            }
        } catch (IOException | RuntimeException e) {
            try {
                steering.removeAll(); // whatever part of the setup was made
                steering.macs.close();
                nft.close();
            } catch (IOException | RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        log.info("event=steering_started netns={} mark={} table={}", shell, hex(config.mark()), config.table());
        return steering;
    }

    private void rebuildKeeping(Map<String, ? extends Collection<FlowKey>> stillHeld) throws IOException {
        StringBuilder script = new StringBuilder("add table bridge " + TABLE + "\ndelete table bridge " + TABLE + "\n"
                + "add table inet " + TABLE + "\ndelete table inet " + TABLE + "\n" + baseTables());
        int count = 0;
        for (Map.Entry<String, ? extends Collection<FlowKey>> bridge : stillHeld.entrySet()) {
            script.append(steerScript(bridge.getKey(), bridgeMac(bridge.getKey()), List.copyOf(bridge.getValue())));
            count += bridge.getValue().size();
        }
        nft.apply("rebuild the steering tables keeping " + count + " held flows", script.toString());
        stillHeld.forEach((bridge, flows) -> steeredByBridge.computeIfAbsent(bridge, b -> new HashSet<>()).addAll(flows));
        for (String family : List.of("-4", "-6")) {
            String rules = shell.ip(family, "rule", "show", "priority", config.rulePriority().toString());
            if (!rules.contains("lookup " + config.table())) {
                shell.ip(family, "rule", "add", "fwmark", hex(config.mark()), "lookup", config.table().toString(),
                        "priority", config.rulePriority().toString());
            }
            String any = family.equals("-4") ? "0.0.0.0/0" : "::/0";
            shell.ip(family, "route", "replace", "local", any, "dev", "lo", "table", config.table().toString());
        }
        log.info("event=steering_kept netns={} flows={}", shell, count);
    }

    private void addRules() throws IOException {
        for (String family : List.of("-4", "-6")) {
            String any = family.equals("-4") ? "0.0.0.0/0" : "::/0";
            shell.ip(family, "rule", "add", "fwmark", hex(config.mark()), "lookup", config.table().toString(),
                    "priority", config.rulePriority().toString());
            shell.ip(family, "route", "add", "local", any, "dev", "lo", "table", config.table().toString());
        }
    }

    /** Diverts {@code flows} (guest-local -> peer-remote) arriving on {@code bridge}, in one transaction. */
    public synchronized void steer(String bridge, Collection<FlowKey> flows) throws IOException {
        requireOpen();
        Set<FlowKey> steered = steeredByBridge.computeIfAbsent(bridge, b -> new HashSet<>());
        List<FlowKey> fresh = new ArrayList<>();
        for (FlowKey flow : flows) {
            if (!steered.contains(flow)) {
                fresh.add(flow);
            }
        }
        String mac = bridgeMac(bridge);
        boolean rulesCurrent = mac.equals(macInRules.get(bridge));
        if (rulesCurrent && fresh.isEmpty()) {
            return;
        }
        String script = rulesCurrent ? elementsScript(bridge, fresh) : steerScript(bridge, mac, fresh);
        try {
            nft.apply("steer " + Nftables.describe(fresh) + " on " + bridge, script);
        } catch (IOException e) {
            if (!rulesCurrent) {
                throw e;
            }
            // The tables were removed behind our back (nft flush ruleset, a firewall reload): build
            // them again as a restart does, with every flow held here and the new ones.
            log.warn("event=steering_rebuilt netns={} bridge={} why=\"{}\"", shell, bridge, e.getMessage());
            Map<String, Set<FlowKey>> all = new HashMap<>();
            steeredByBridge.forEach((b, held) -> all.put(b, new HashSet<>(held)));
            all.computeIfAbsent(bridge, b -> new HashSet<>()).addAll(fresh);
            macInRules.clear();
            rebuildKeeping(all);
            return;
        }
        macInRules.put(bridge, mac);
        steered.addAll(fresh);
        log.debug("event=steered netns={} bridge={} flows={}", shell, bridge, fresh.size());
    }

    private String elementsScript(String bridge, List<FlowKey> fresh) {
        StringBuilder script = new StringBuilder();
        appendElements(script, "add", bridge, fresh);
        return script.toString();
    }

    private String steerScript(String bridge, String mac, List<FlowKey> fresh) {
        StringBuilder script = new StringBuilder();
        String chain = chainName(bridge);
        String set4 = setName(bridge, 4);
        String set6 = setName(bridge, 6);
        // "add" is idempotent for tables, chains and sets; flushing the chain then re-adding the
        // rules in the same transaction puts in the bridge's current MAC without a gap. The rule
        // cannot name its bridge ("meta ibrname" needs nft_meta_bridge, which this kernel lacks):
        // the per-bridge set of exact 4-tuples is what confines it.
        script.append("add chain bridge ").append(TABLE).append(' ').append(chain)
                .append(" { type filter hook prerouting priority -300; policy accept; }\n");
        script.append("add set bridge ").append(TABLE).append(' ').append(set4)
                .append(" { type ipv4_addr . inet_service . ipv4_addr . inet_service; }\n");
        script.append("add set bridge ").append(TABLE).append(' ').append(set6)
                .append(" { type ipv6_addr . inet_service . ipv6_addr . inet_service; }\n");
        script.append("flush chain bridge ").append(TABLE).append(' ').append(chain).append('\n');
        String action = " meta mark set " + hex(config.mark()) + " ether daddr set " + mac + " meta pkttype set host";
        script.append("add rule bridge ").append(TABLE).append(' ').append(chain).append(" ip saddr . tcp sport . ip daddr . tcp dport @").append(set4).append(action).append('\n');
        script.append("add rule bridge ").append(TABLE).append(' ').append(chain).append(" ip6 saddr . tcp sport . ip6 daddr . tcp dport @").append(set6).append(action).append('\n');
        appendElements(script, "add", bridge, fresh);
        return script.toString();
    }

    /** Stops diverting {@code flows}, in one transaction; flows not steered are ignored. */
    public synchronized void unsteer(String bridge, Collection<FlowKey> flows) throws IOException {
        requireOpen();
        Set<FlowKey> steered = steeredByBridge.getOrDefault(bridge, Set.of());
        List<FlowKey> present = new ArrayList<>();
        for (FlowKey flow : flows) {
            if (steered.contains(flow)) {
                present.add(flow);
            }
        }
        if (present.isEmpty()) {
            return;
        }
        StringBuilder script = new StringBuilder();
        appendElements(script, "delete", bridge, present);
        nft.apply("unsteer " + Nftables.describe(present) + " on " + bridge, script.toString());
        steered.removeAll(present);
        log.debug("event=unsteered netns={} bridge={} flows={}", shell, bridge, present.size());
    }

    /** The flows currently diverted on {@code bridge}. */
    public synchronized Set<FlowKey> steered(String bridge) {
        return Set.copyOf(steeredByBridge.getOrDefault(bridge, Set.of()));
    }

    /** The MAC address of {@code bridge} as the kernel reports it now. */
    public String bridgeMac(String bridge) throws IOException {
        return macs.of(bridge);
    }

    /** Removes the tables, ip rules and routes. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        macs.close();
        try {
            removeAll();
        } finally {
            nft.close();
        }
        steeredByBridge.clear();
        macInRules.clear();
        log.info("event=steering_stopped netns={}", shell);
    }

    /**
     * Lets go of the steering without removing it: tables, rules and routes stay in the kernel for
     * copies an fd keeper keeps, and the next start rebuilds them around the flows it adopts
     * ({@link #start(NamespaceShell, SteeringConfig, Map)}), as after a crash.
     */
    public synchronized void detach() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            macs.close();
        } finally {
            nft.close();
        }
        log.info("event=steering_left_in_place netns={} steered={}", shell,
                steeredByBridge.values().stream().mapToInt(java.util.Collection::size).sum());
        steeredByBridge.clear();
        macInRules.clear();
    }

    private void removeAll() throws IOException {
        macInRules.clear();
        // "add" then "delete" in one transaction removes a table whether or not it existed.
        nft.apply("remove the steering tables", "add table bridge " + TABLE + "\ndelete table bridge " + TABLE + "\n"
                + "add table inet " + TABLE + "\ndelete table inet " + TABLE + "\n");
        for (String family : List.of("-4", "-6")) {
            String rules = shell.ip(family, "rule", "show", "priority", config.rulePriority().toString());
            for (String line : rules.split("\n")) {
                if (line.contains("lookup " + config.table())) {
                    shell.ip(family, "rule", "del", "fwmark", hex(config.mark()), "lookup", config.table().toString(),
                            "priority", config.rulePriority().toString());
                }
            }
            // "show table T" fails while table T does not exist; "table all" lists every table's routes.
            String routes = shell.ip(family, "route", "show", "table", "all");
            if (routes.contains(" table " + config.table() + " ")) {
                shell.ip(family, "route", "flush", "table", config.table().toString());
            }
        }
    }

    private String baseTables() {
        return "add table bridge " + TABLE + "\n"
                + "add table inet " + TABLE + "\n"
                // Diverted packets belong to connections conntrack never saw start.
                + "add chain inet " + TABLE + " raw_prerouting { type filter hook prerouting priority raw; policy accept; }\n"
                + "add rule inet " + TABLE + " raw_prerouting meta mark " + hex(config.mark()) + " notrack\n"
                + "add chain inet " + TABLE + " raw_output { type filter hook output priority raw; policy accept; }\n"
                + "add rule inet " + TABLE + " raw_output meta mark " + hex(config.copyMark()) + " notrack\n";
    }

    private void appendElements(StringBuilder script, String verb, String bridge, List<FlowKey> flows) {
        List<String> v4 = new ArrayList<>();
        List<String> v6 = new ArrayList<>();
        for (FlowKey flow : flows) {
            InetSocketAddress guest = flow.local();
            InetSocketAddress peer = flow.remote();
            String element = plain(peer.getAddress()) + " . " + peer.getPort() + " . "
                    + plain(guest.getAddress()) + " . " + guest.getPort();
            (guest.getAddress() instanceof Inet4Address ? v4 : v6).add(element);
        }
        appendSetElements(script, verb, setName(bridge, 4), v4);
        appendSetElements(script, verb, setName(bridge, 6), v6);
    }

    private static void appendSetElements(StringBuilder script, String verb, String set, List<String> elements) {
        if (elements.isEmpty()) {
            return;
        }
        script.append(verb).append(" element bridge ").append(TABLE).append(' ').append(set).append(" { ")
                .append(String.join(", ", elements)).append(" }\n");
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("flow steering in " + shell + " is closed");
        }
    }

    static String chainName(String bridge) {
        return "pre_" + identifier(bridge);
    }

    static String setName(String bridge, int family) {
        return "flows" + family + "_" + identifier(bridge);
    }

    /** nft identifiers allow letters, digits and underscores; interface names allow more. */
    private static String identifier(String bridge) {
        return bridge.replaceAll("[^A-Za-z0-9_]", "_");
    }

    /**
     * The address without a scope suffix: an Inet6Address decoded from a sockaddr carries its
     * scope id, and getHostAddress then appends {@code %0}, which nft cannot parse.
     */
    public static String plain(InetAddress address) {
        String text = address.getHostAddress();
        int percent = text.indexOf('%');
        return percent < 0 ? text : text.substring(0, percent);
    }

    private static String hex(int value) {
        return "0x" + Integer.toHexString(value);
    }
}
