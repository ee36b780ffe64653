package org.tcpferry.host.net;

import io.netty.channel.Channel;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tcpferry.host.hold.HoldLifecycle;
import org.tcpferry.protocol.ErrorCode;
import org.tcpferry.protocol.ErrorReply;
import org.tcpferry.protocol.FlowKey;
import org.tcpferry.protocol.HandoffRequest;
import org.tcpferry.protocol.Message;
import org.tcpferry.protocol.ReleaseAbort;
import org.tcpferry.protocol.ReleaseConfirm;
import org.tcpferry.protocol.ReleaseGranted;
import org.tcpferry.protocol.ReleaseRequest;

/**
 * Passes an agent's request on to the host manager that holds (or is to hold) the copy, and the
 * holder's reply back (docs/protocol.md, "Relaying between host managers"). The relaying host keeps
 * no copy and no token of its own; it only remembers which releases it relayed were granted and not
 * yet confirmed, per agent channel, so that when that channel closes it can abort them at the
 * holder, which then holds again (the holder sees only its link to us, which stays up).
 */
final class Relay {
    private static final Logger log = LoggerFactory.getLogger(Relay.class);

    private final PeerLinks links;
    private final Map<Channel, Set<Granted>> unconfirmed = new ConcurrentHashMap<>();

    Relay(PeerLinks links) {
        this.links = links;
    }

    /** Opens the links to the configured peers ahead of their first use. */
    void warmUp() {
        links.warmUp();
    }

    /** Sends {@code request} to {@code holder}; the reply is the holder's, or UNREACHABLE. */
    CompletableFuture<Message> forward(String holder, Message request, Channel requester) {
        long start = System.nanoTime();
        return links.to(holder).thenCompose(link -> link.request(request)).handle((reply, error) -> {
            if (error != null) {
                String why = HoldLifecycle.cause(error).getMessage();
                log.warn("event=relay_failed holder={} request={} why=\"{}\"", holder, request, why);
                return new ErrorReply(ErrorCode.UNREACHABLE, "cannot reach host " + holder + ", which holds "
                        + flowOf(request) + " (it keeps holding): " + why);
            }
            track(holder, request, reply, requester);
            log.info("event=relayed holder={} request={} reply={} millis={}", holder, request.type(), reply.type(),
                    (System.nanoTime() - start) / 1_000_000);
            return reply instanceof ErrorReply refusal ? ErrorReply.relayed(holder, refusal) : reply;
        });
    }

    /** The agent channel {@code requester} closed: abort at their holders the releases it did not confirm. */
    void requesterGone(Channel requester) {
        Set<Granted> left = unconfirmed.remove(requester);
        if (left == null) {
            return;
        }
        for (Granted g : left) {
            log.warn("event=relay_abort holder={} flow={} why=\"agent channel closed before confirming\"", g.holder,
                    g.request.flow());
            forward(g.holder, new ReleaseAbort(g.request.flow(), g.request.token()), null);
        }
    }

    private void track(String holder, Message request, Message reply, Channel requester) {
        if (requester == null) {
            return;
        }
        if (request instanceof ReleaseRequest release && reply instanceof ReleaseGranted) {
            unconfirmed.computeIfAbsent(requester, c -> ConcurrentHashMap.newKeySet()).add(new Granted(holder, release));
        } else if (request instanceof ReleaseConfirm || request instanceof ReleaseAbort) {
            Set<Granted> granted = unconfirmed.get(requester);
            if (granted != null) {
                FlowKey flow = flowOf(request);
                granted.removeIf(g -> g.request.flow().equals(flow));
            }
        }
    }

    private static FlowKey flowOf(Message request) {
        if (request instanceof ReleaseRequest r) {
            return r.flow();
        }
        if (request instanceof ReleaseConfirm r) {
            return r.flow();
        }
        if (request instanceof ReleaseAbort r) {
            return r.flow();
        }
        if (request instanceof HandoffRequest r) {
            return FlowKey.of(r.state());
        }
        throw new IllegalArgumentException(request.type() + " is not relayed");
    }

    private record Granted(String holder, ReleaseRequest request) {
    }
}
