package org.tcpferry.host.net;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tcpferry.host.HostManager;
import org.tcpferry.host.handoff.HandoffService;
import org.tcpferry.protocol.Ack;
import org.tcpferry.protocol.ControlCommand;
import org.tcpferry.protocol.ErrorCode;
import org.tcpferry.protocol.ErrorReply;
import org.tcpferry.protocol.Frames;
import org.tcpferry.protocol.HandoffComplete;
import org.tcpferry.protocol.HandoffRequest;
import org.tcpferry.protocol.Hello;
import org.tcpferry.protocol.HelloReply;
import org.tcpferry.protocol.Message;
import org.tcpferry.protocol.ReleaseAbort;
import org.tcpferry.protocol.ReleaseConfirm;
import org.tcpferry.protocol.ReleaseRequest;
import org.tcpferry.protocol.StatusReply;
import org.tcpferry.protocol.StatusRequest;

/**
 * Serves one channel according to its {@link Role}, following docs/protocol.md: on a channel the
 * other side opened, Hello comes first (anything else first, or a second Hello, is UNEXPECTED and
 * closes the channel) and its role must match the endpoint (else REFUSED); replies are never
 * answered, they complete the host's own requests ({@link Conversation}) or are dropped. Replies
 * carry the requestId of their request and may complete out of order (a handoff waits for its
 * steering batch while the next request is already being served). When the channel closes, the
 * releases it asked for and did not confirm are aborted: their connections are held again.
 */
final class MessageHandler extends SimpleChannelInboundHandler<Envelope> {
    private static final Logger log = LoggerFactory.getLogger(MessageHandler.class);

    private final Role role;
    private final HostManager manager;
    private final Endpoints endpoints;
    /** For AGENT: the only domain this channel may act for. */
    private final String domain;
    /** Whether this host opened the connection (then it sent Hello and the other side does not). */
    private final boolean opener;
    /** For a link this host opened to another host: completed once our Hello is answered; else null. */
    private final CompletableFuture<Conversation> ready;
    /** Everything this host sends on the channel goes through it, so that it keeps its order. */
    private final ChannelWriter writer;
    private boolean helloSeen;
    private Conversation conversation;

    /** @param writer the channel's writer, shared with its {@link FrameCodec} */
    MessageHandler(Role role, HostManager manager, Endpoints endpoints, String domain, boolean opener,
            CompletableFuture<Conversation> ready, ChannelWriter writer) {
        this.role = role;
        this.manager = manager;
        this.endpoints = endpoints;
        this.domain = domain;
        this.opener = opener;
        this.ready = ready;
        this.writer = writer;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        conversation = new Conversation(ctx.channel(), writer, opener);
        log.info("event=channel_open role={} domain={} remote={} opener={}", role, domain, ctx.channel().remoteAddress(),
                opener ? "host" : "remote");
        if (role == Role.AGENT) {
            endpoints.agentConnected(domain, conversation);
        }
        if (opener) {
            conversation.request(new Hello(Hello.HOST, manager.config().node(), domain == null ? "" : domain))
                    .whenComplete((reply, error) -> {
                        if (error == null && !(reply instanceof HelloReply)) {
                            log.warn("event=hello_refused role={} domain={} reply={}", role, domain, reply);
                            ctx.close();
                        }
                        if (ready != null) {
                            if (reply instanceof HelloReply) {
                                ready.complete(conversation);
                            } else {
                                ready.completeExceptionally(new java.io.IOException("host at "
                                        + ctx.channel().remoteAddress() + " refused our Hello: "
                                        + (error != null ? error.getMessage() : reply)));
                            }
                        }
                    });
        }
        super.channelActive(ctx);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Envelope envelope) {
        Message message = envelope.message();
        if (Conversation.isReply(message)) {
            if (!conversation.complete(envelope.requestId(), message)) {
                log.warn("event=unmatched_reply role={} domain={} id={} message={}", role, domain,
                        Integer.toUnsignedString(envelope.requestId()), message);
            }
            return;
        }
        CompletableFuture<Message> reply;
        boolean closeAfter = false;
        try {
            if (!opener && !helloSeen && !(message instanceof Hello)) {
                reply = done(new ErrorReply(ErrorCode.UNEXPECTED, message.type() + " before Hello"));
                closeAfter = true;
            } else {
                reply = answer(ctx, envelope.requestId(), message);
                // A first Hello that was refused (wrong role) ends the conversation; a second one does not.
                closeAfter = message instanceof Hello && !opener && !helloSeen;
            }
        } catch (RuntimeException e) {
            log.error("event=handler_failed role={} remote={} message={} error=\"{}\"", role, ctx.channel().remoteAddress(),
                    message.type(), e.toString(), e);
            reply = done(new ErrorReply(ErrorCode.INTERNAL, e.toString()));
        }
        boolean close = closeAfter;
        reply.whenComplete((out, error) -> {
            Message sent = error == null ? out : new ErrorReply(ErrorCode.INTERNAL, String.valueOf(error.getMessage()));
            Envelope answer = new Envelope(envelope.requestId(), sent);
            if (close) {
                writer.replyThenClose(answer);
            } else {
                writer.reply(answer);
            }
        });
    }

    private CompletableFuture<Message> answer(ChannelHandlerContext ctx, int requestId, Message message) {
        HandoffService handoffs = manager.handoffs();
        if (message instanceof Hello hello) {
            return done(hello(hello));
        }
        if (message instanceof StatusRequest) {
            return done(new StatusReply(manager.status().toString()));
        }
        if (role == Role.CONTROL) {
            if (message instanceof ControlCommand command) {
                return endpoints.control().run(command);
            }
            return done(unexpected(message));
        }
        if (message instanceof HandoffRequest request) {
            if (role == Role.AGENT && !request.domain().equals(domain)) {
                return done(new ErrorReply(ErrorCode.NOT_OWNER, "this channel belongs to domain " + domain
                        + ", not " + request.domain()));
            }
            String placement = role == Role.AGENT ? endpoints.copiesPlacedOn(domain) : null;
            if (placement != null) {
                // The operator chose another host for this handoff's copies (--hold-on).
                return endpoints.relay().forward(placement, request, ctx.channel());
            }
            if (role == Role.PEER_HOST) {
                // Copies placed here while the guest runs elsewhere: draw its frames to this host. The
                // domain may be one this host's libvirt has but it has not learned yet (defined here
                // for the coming migration): look it up first.
                return manager.domainOrDiscover(request.domain()).thenCompose(known -> handoffs.handoff(request))
                        .thenApply(reply -> {
                            org.tcpferry.host.config.DomainConfig held = manager.config().domain(request.domain());
                            if (reply instanceof org.tcpferry.protocol.HandoffAccepted && held != null) {
                                endpoints.announcer().guestHeldHere(held);
                            }
                            return reply;
                        });
            }
            return handoffs.handoff(request);
        }
        if (message instanceof org.tcpferry.protocol.HandoffQuery query) {
            // Only the domain's own agent may ask for the token of one of its flows.
            return done(role == Role.AGENT ? handoffs.query(domain, query.flow()) : unexpected(message));
        }
        if (message instanceof HandoffComplete complete) {
            // Carries the id of the HandoffOrder it ends: completes the order, and is acknowledged.
            log.info("event=handoff_complete domain={} count={}", domain, complete.count());
            conversation.complete(requestId, complete);
            return done(new Ack());
        }
        if (message instanceof ReleaseRequest request) {
            CompletableFuture<Message> relayed = relayIfHeldElsewhere(ctx, request, request.flow(), request.token());
            return relayed != null ? relayed : handoffs.release(request, ctx.channel());
        }
        if (message instanceof ReleaseConfirm confirm) {
            CompletableFuture<Message> relayed = relayIfHeldElsewhere(ctx, confirm, confirm.flow(), confirm.token());
            return relayed != null ? relayed : handoffs.confirm(confirm);
        }
        if (message instanceof ReleaseAbort abort) {
            CompletableFuture<Message> relayed = relayIfHeldElsewhere(ctx, abort, abort.flow(), abort.token());
            return relayed != null ? relayed : handoffs.abort(abort);
        }
        return done(unexpected(message));
    }

    /**
     * An agent's request about a copy another host holds (its token names that host) goes to that
     * host; null when this host holds it. Only agent channels are relayed: a request that came
     * from another host is answered here, so relays never loop. The flow must be one of this
     * channel's domain's addresses, as for a handoff.
     */
    private CompletableFuture<Message> relayIfHeldElsewhere(ChannelHandlerContext ctx, Message request,
            org.tcpferry.protocol.FlowKey flow, byte[] token) {
        String holder = org.tcpferry.protocol.HolderToken.holder(token);
        if (role != Role.AGENT || holder == null || holder.equals(manager.config().node())) {
            return null;
        }
        org.tcpferry.host.config.DomainConfig own = manager.config().domain(domain);
        if (own != null && !own.addressSet().contains(flow.local().getAddress())) {
            return done(new ErrorReply(ErrorCode.NOT_OWNER, "domain " + domain + " does not own "
                    + flow.local().getAddress().getHostAddress() + "; not relayed to " + holder));
        }
        return endpoints.relay().forward(holder, request, ctx.channel());
    }

    private Message hello(Hello hello) {
        if (opener || helloSeen) {
            return new ErrorReply(ErrorCode.UNEXPECTED, "a second Hello");
        }
        String expected = role == Role.AGENT ? Hello.AGENT : role == Role.CONTROL ? Hello.CONTROL : Hello.HOST;
        if (!hello.role().equals(expected)) {
            return new ErrorReply(ErrorCode.REFUSED, "this endpoint serves role " + expected + ", not " + hello.role());
        }
        helloSeen = true;
        log.info("event=hello role={} domain={} from={}", role, domain, hello.nodeName());
        return new HelloReply(manager.config().node(), Frames.VERSION);
    }

    private Message unexpected(Message message) {
        return new ErrorReply(ErrorCode.UNEXPECTED, message.type() + " is not accepted on a " + role + " channel");
    }

    private static CompletableFuture<Message> done(Message message) {
        return CompletableFuture.completedFuture(message);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        log.info("event=channel_closed role={} domain={} remote={}", role, domain, ctx.channel().remoteAddress());
        conversation.closed();
        if (role == Role.AGENT) {
            endpoints.agentDisconnected(domain, conversation);
        }
        manager.handoffs().requesterGone(ctx.channel());
        if (role == Role.AGENT) {
            endpoints.relay().requesterGone(ctx.channel());
        }
        if (ready != null) {
            ready.completeExceptionally(new java.io.IOException("channel to " + ctx.channel().remoteAddress()
                    + " closed before Hello was answered"));
        }
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.warn("event=channel_error role={} domain={} remote={} error=\"{}\"", role, domain,
                ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
