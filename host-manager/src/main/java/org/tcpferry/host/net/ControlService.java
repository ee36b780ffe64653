package org.tcpferry.host.net;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tcpferry.host.HostManager;
import org.tcpferry.host.hold.DomainHolds;
import org.tcpferry.host.hold.HoldLifecycle;
import org.tcpferry.protocol.Ack;
import org.tcpferry.protocol.ControlCommand;
import org.tcpferry.protocol.ControlReply;
import org.tcpferry.protocol.ErrorReply;
import org.tcpferry.protocol.HandoffComplete;
import org.tcpferry.protocol.HandoffOrder;
import org.tcpferry.protocol.Message;
import org.tcpferry.protocol.ReclaimOrder;
import org.tcpferry.protocol.Selection;

/**
 * The verbs of the control socket. {@code status}; {@code handoff domain=X} sends the domain's
 * agent a HandoffOrder for all its connections and replies when the agent's HandoffComplete
 * arrives; {@code reclaim domain=X} sends a ReclaimOrder and replies when the agent acknowledges
 * it; {@code libvirt-hook} (from libvirt-hooks/qemu) is acknowledged at once, since libvirt waits
 * for the hook. {@code handoff ... holdOn=NODE} places the copies on the host manager NODE (a
 * {@code peers} entry) instead of this one: each HandoffRequest of that order is relayed there.
 * Exit codes as the CLI's: 0 done, 1 failed, 2 wrong usage.
 */
final class ControlService {
    private static final Logger log = LoggerFactory.getLogger(ControlService.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long ORDER_TIMEOUT_SECONDS = 120;

    private final HostManager manager;
    private final Endpoints endpoints;

    ControlService(HostManager manager, Endpoints endpoints) {
        this.manager = manager;
        this.endpoints = endpoints;
    }

    CompletableFuture<Message> run(ControlCommand command) {
        switch (command.verb()) {
            case "status":
                return done(0, manager.status());
            case "libvirt-hook":
                return done(0, libvirtHook(command));
            case "handoff":
                try {
                    return handoff(command, new HandoffOrder(selection(command)));
                } catch (IllegalArgumentException e) {
                    return done(2, error(e.getMessage()));
                }
            case "reclaim":
                return order(command, new ReclaimOrder());
            default:
                return done(2, error("unknown command " + command.verb() + "; known: status, handoff, reclaim, libvirt-hook"));
        }
    }

    /**
     * The hook only tells us what libvirt is doing; the channel to the agent reconnects on its
     * own and held connections stay held through stop/start. So: log it and answer at once.
     */
    private ObjectNode libvirtHook(ControlCommand command) {
        String domain = command.args().getOrDefault("domain", "");
        DomainHolds holds = manager.domain(domain);
        log.info("event=libvirt_hook domain={} op={} subop={} extra={} known={}", domain,
                command.args().getOrDefault("op", ""), command.args().getOrDefault("subop", ""),
                command.args().getOrDefault("extra", ""), holds != null);
        ObjectNode reply = JSON.createObjectNode();
        reply.put("domain", domain);
        reply.put("known", holds != null);
        reply.put("held", holds == null ? 0 : holds.connections().size());
        return reply;
    }

    /** A handoff order, with its copies placed on another host while it runs when {@code holdOn} says so. */
    private CompletableFuture<Message> handoff(ControlCommand command, HandoffOrder order) {
        String domain = command.args().get("domain");
        String wanted = command.args().get("holdOn");
        if (wanted == null || wanted.isEmpty() || wanted.equals(manager.config().node())) {
            return order(command, order);
        }
        org.tcpferry.host.config.PeerAddress peer = manager.config().peerFor(wanted);
        if (peer == null) {
            return done(2, error("holdOn=" + wanted + " is neither the node name nor the address of an entry in this "
                    + "host's peers list (known: " + manager.config().peers() + ")"));
        }
        String holdOn = peer.node();
        return manager.domainOrDiscover(domain).thenCompose(holds -> holds == null ? unknownDomain(domain)
                : handoffHeldOn(command, order, domain, holdOn));
    }

    private CompletableFuture<Message> handoffHeldOn(ControlCommand command, HandoffOrder order, String domain, String holdOn) {
        synchronized (endpoints) {
            if (endpoints.copiesPlacedOn(domain) != null) {
                return done(1, error("a handoff of " + domain + " to " + endpoints.copiesPlacedOn(domain)
                        + " is already running"));
            }
            endpoints.placeCopies(domain, holdOn);
        }
        log.info("event=copies_placed domain={} holder={}", domain, holdOn);
        return order(command, order).whenComplete((reply, error) -> endpoints.placeCopies(domain, null));
    }

    /** Sends {@code order} to the agent of the command's domain, which libvirt may tell this host of only now. */
    private CompletableFuture<Message> order(ControlCommand command, Message order) {
        String domain = command.args().get("domain");
        return manager.domainOrDiscover(domain).thenCompose(holds -> holds == null ? unknownDomain(domain)
                : orderKnown(domain, order));
    }

    private CompletableFuture<Message> unknownDomain(String domain) {
        if (domain == null) {
            return done(2, error("no domain named (argument domain=NAME)"));
        }
        String libvirt = manager.config().libvirt().enabled()
                ? "and libvirt (" + manager.config().libvirt().uri() + ") has no such domain set up for tcpferry "
                        + "(the host manager's log says why; tcpferry setup-domain adds the channel)"
                : "and libvirt discovery is off (libvirt.uri is empty)";
        return done(2, error("unknown domain " + domain + ": not in " + manager.config().node() + "'s config, " + libvirt));
    }

    private CompletableFuture<Message> orderKnown(String domain, Message order) {
        Conversation agent = endpoints.agentConversation(domain);
        if (agent == null) {
            return done(1, error("the agent of " + domain + " is not connected"));
        }
        log.info("event=order_sent domain={} order={}", domain, order.type());
        return agent.request(order).orTimeout(ORDER_TIMEOUT_SECONDS, TimeUnit.SECONDS).handle((reply, error) -> {
            ObjectNode result = JSON.createObjectNode();
            result.put("domain", domain);
            if (error != null) {
                result.put("error", HoldLifecycle.cause(error).toString());
                return new ControlReply(1, result.toString());
            }
            if (reply instanceof ErrorReply refused) {
                result.put("error", refused.code() + ": " + refused.message());
                return new ControlReply(1, result.toString());
            }
            if (reply instanceof HandoffComplete complete) {
                result.put("handedOff", complete.count());
            } else if (reply instanceof org.tcpferry.protocol.StatusReply report) {
                // The agent's answer to a ReclaimOrder: what each connection carried.
                try {
                    result.setAll((ObjectNode) JSON.readTree(report.json()));
                } catch (com.fasterxml.jackson.core.JsonProcessingException | ClassCastException e) {
                    result.put("agentReport", report.json());
                }
            } else if (!(reply instanceof Ack)) {
                result.put("error", "agent answered " + reply);
                return new ControlReply(1, result.toString());
            }
            String placedOn = endpoints.copiesPlacedOn(domain);
            if (placedOn != null) {
                result.put("holder", placedOn);
            } else {
                result.put("held", manager.domain(domain).connections().size());
            }
            String lost = lostConnections(result);
            if (!lost.isEmpty()) {
                result.put("error", lost);
                return new ControlReply(1, result.toString());
            }
            return new ControlReply(0, result.toString());
        });
    }

    /**
     * What a reclaim lost, for the operator: each connection the agent reports FAILED (for example
     * because no copy was left after the host manager and its fd keeper both died), with the
     * agent's reason; empty when nothing was lost. Sets {@code lost} to their number.
     */
    private static String lostConnections(ObjectNode result) {
        List<String> lost = new java.util.ArrayList<>();
        for (com.fasterxml.jackson.databind.JsonNode c : result.path("carried")) {
            if (c.path("phase").asText().equals("FAILED")) {
                lost.add(c.path("flow").asText() + " (" + c.path("note").asText("no reason given") + ")");
            }
        }
        if (lost.isEmpty()) {
            return "";
        }
        result.put("lost", lost.size());
        return "lost " + lost.size() + " connection(s), the guest's sockets were reset: " + String.join("; ", lost);
    }

    /**
     * The handoff's selection from the optional arguments {@code localPorts}, {@code remotePorts}
     * ({@code 80,8000-8100}), {@code processNames}, {@code cgroups}, {@code uids} (comma lists);
     * none given selects everything.
     */
    static Selection selection(ControlCommand command) {
        java.util.Map<String, String> args = command.args();
        return new Selection(ports(args.get("localPorts")), ports(args.get("remotePorts")), list(args.get("processNames")),
                list(args.get("cgroups")), list(args.get("uids")).stream().map(Integer::parseInt).toList());
    }

    private static java.util.List<String> list(String value) {
        return value == null || value.isBlank() ? java.util.List.of()
                : java.util.Arrays.stream(value.split(",")).map(String::trim).filter(v -> !v.isEmpty()).toList();
    }

    private static java.util.List<org.tcpferry.protocol.PortRange> ports(String value) {
        return list(value).stream().map(p -> {
            int dash = p.indexOf('-');
            return dash < 0 ? org.tcpferry.protocol.PortRange.of(Integer.parseInt(p))
                    : new org.tcpferry.protocol.PortRange(Integer.parseInt(p.substring(0, dash)),
                            Integer.parseInt(p.substring(dash + 1)));
        }).toList();
    }

    private static ObjectNode error(String text) {
        ObjectNode node = JSON.createObjectNode();
        node.put("error", text);
        return node;
    }

    private static CompletableFuture<Message> done(int exit, ObjectNode json) {
        return CompletableFuture.completedFuture(new ControlReply(exit, json.toString()));
    }
}
