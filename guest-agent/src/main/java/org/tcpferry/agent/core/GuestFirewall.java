package org.tcpferry.agent.core;

import java.io.IOException;
import java.net.Inet4Address;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tcpferry.protocol.FlowKey;

/**
 * Keeps carried flows silent inside the guest while the host holds them: table
 * {@code inet tcpferry_agent} drops each flow's packets on input and output, matched by its 4-tuple
 * in a set per family. Loopback is always accepted: the peer FIN injection of a conform travels
 * over it. Every change is one {@code nft -f -} batch, whatever the number of flows.
 */
public final class GuestFirewall {
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

    private final List<String> nftCommand;

    /** @param netns the namespace to act in (tests), or null for the agent's own */
    public GuestFirewall(Path netns) {
        List<String> command = new ArrayList<>();
        if (netns != null) {
            command.add("nsenter");
            command.add("--net=" + netns);
        }
        command.add("nft");
        command.add("-f");
        command.add("-");
        this.nftCommand = List.copyOf(command);
    }

    /** (Re)creates the table holding exactly {@code blocked}, atomically. */
    public void reset(Collection<FlowKey> blocked) throws IOException {
        StringBuilder script = new StringBuilder("add table inet " + TABLE + "\ndelete table inet " + TABLE + "\n");
        script.append(DEFINITION);
        elements(script, "add", blocked);
        run(script.toString());
    }

    public void block(Collection<FlowKey> flows) throws IOException {
        if (!flows.isEmpty()) {
            StringBuilder script = new StringBuilder("add table inet " + TABLE + "\n");
            elements(script, "add", flows);
            run(script.toString());
        }
    }

    public void unblock(Collection<FlowKey> flows) throws IOException {
        if (!flows.isEmpty()) {
            StringBuilder script = new StringBuilder();
            elements(script, "delete", flows);
            run(script.toString());
        }
    }

    /** Removes the table; nothing is blocked any more. */
    public void remove() throws IOException {
        run("add table inet " + TABLE + "\ndelete table inet " + TABLE + "\n");
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

    private void run(String script) throws IOException {
        Process nft = new ProcessBuilder(nftCommand).redirectErrorStream(true).start();
        try (var in = nft.getOutputStream()) {
            in.write(script.getBytes(StandardCharsets.UTF_8));
        }
        String output = new String(nft.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (nft.waitFor() != 0) {
                throw new IOException("nft failed: " + output.strip() + "\nscript:\n" + abbreviate(script));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for nft", e);
        }
        log.debug("event=nft lines={}", script.lines().count());
    }

    private static String abbreviate(String script) {
        return script.length() > 2000 ? script.substring(0, 2000) + "..." : script;
    }
}
