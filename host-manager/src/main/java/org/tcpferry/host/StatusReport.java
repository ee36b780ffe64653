package org.tcpferry.host;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Comparator;
import java.util.List;
import org.tcpferry.host.hold.DomainHolds;
import org.tcpferry.host.hold.HeldConnection;
import org.tcpferry.host.steer.FlowSteering;
import org.tcpferry.protocol.FlowKey;

/**
 * The host's status as JSON: per domain, every held connection with its 4-tuple, age, bytes each
 * way, window, peer state and HoldState. {@code tcpferry status} prints it.
 */
public final class StatusReport {
    private static final ObjectMapper JSON = new ObjectMapper();

    private StatusReport() {
    }

    public static ObjectNode of(String node, List<DomainHolds> domains) {
        ObjectNode root = JSON.createObjectNode();
        root.put("node", node);
        ArrayNode domainsNode = root.putArray("domains");
        for (DomainHolds domain : domains) {
            ObjectNode d = domainsNode.addObject();
            d.put("name", domain.name());
            d.put("uuid", domain.config().uuid());
            d.put("bridge", domain.config().bridge());
            d.put("netns", domain.config().netns());
            d.put("spooledBytes", domain.quota().used());
            ArrayNode connections = d.putArray("connections");
            domain.connections().stream()
                    .sorted(Comparator.comparing(h -> h.flow().toString()))
                    .forEach(held -> connection(connections.addObject(), held));
        }
        return root;
    }

    private static void connection(ObjectNode c, HeldConnection held) {
        FlowKey flow = held.flow();
        c.put("flow", flow.toString());
        c.put("local", FlowSteering.plain(flow.local().getAddress()) + ":" + flow.local().getPort());
        c.put("remote", FlowSteering.plain(flow.remote().getAddress()) + ":" + flow.remote().getPort());
        // States are read before counters: the loop updates the counters first, so a report that
        // says "closed: quota" or FIN also shows every byte that led there.
        String state = held.state().name();
        String window = held.window();
        String peer = held.peer().name();
        c.put("state", state);
        c.put("ageSeconds", held.age().toMillis() / 1000.0);
        c.put("bytesFromPeer", held.bytesFromPeer());
        c.put("bytesToPeer", held.bytesToPeer());
        c.put("bytesOnDisk", held.bytesOnDisk());
        c.put("window", window);
        c.put("peer", peer);
        if (!held.error().isEmpty()) {
            c.put("error", held.error());
        }
    }

    /** A human-readable table of the same report. */
    public static String table(com.fasterxml.jackson.databind.JsonNode status) {
        StringBuilder out = new StringBuilder();
        out.append("node ").append(status.path("node").asText()).append('\n');
        for (com.fasterxml.jackson.databind.JsonNode d : status.path("domains")) {
            out.append("domain ").append(d.path("name").asText()).append(" (").append(d.path("uuid").asText())
                    .append(") bridge ").append(d.path("bridge").asText()).append(", ")
                    .append(d.path("connections").size()).append(" held, ")
                    .append(d.path("spooledBytes").asLong()).append(" bytes spooled\n");
            if (d.path("connections").size() > 0) {
                out.append(String.format("  %-48s %-9s %8s %12s %10s %-14s %-6s%n",
                        "FLOW (guest->peer)", "STATE", "AGE s", "FROM PEER", "TO PEER", "WINDOW", "PEER"));
            }
            for (com.fasterxml.jackson.databind.JsonNode c : d.path("connections")) {
                out.append(String.format("  %-48s %-9s %8.1f %12d %10d %-14s %-6s%s%n",
                        c.path("flow").asText(), c.path("state").asText(), c.path("ageSeconds").asDouble(),
                        c.path("bytesFromPeer").asLong(), c.path("bytesToPeer").asLong(), c.path("window").asText(),
                        c.path("peer").asText(), c.has("error") ? "  error: " + c.path("error").asText() : ""));
            }
        }
        return out.toString();
    }
}
