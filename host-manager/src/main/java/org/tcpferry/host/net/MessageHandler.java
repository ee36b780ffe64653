package org.tcpferry.host.net;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tcpferry.host.HostManager;
import org.tcpferry.host.handoff.HandoffService;
import org.tcpferry.protocol.Ack;
import org.tcpferry.protocol.ControlCommand;
import org.tcpferry.protocol.ControlReply;
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
 * Answers the messages of one channel according to its {@link Role}. Replies carry the
 * requestId of their request and may complete out of order (a handoff waits for its steering
 * batch while the next request is already being served). When the channel closes, the releases
 * it asked for and did not confirm are aborted: their connections are held again.
 */
final class MessageHandler extends SimpleChannelInboundHandler<Envelope> {
    private static final Logger log = LoggerFactory.getLogger(MessageHandler.class);

    private final Role role;
    private final HostManager manager;
    /** For AGENT: the only domain this channel may act for. */
    private final String domain;

    MessageHandler(Role role, HostManager manager, String domain) {
        this.role = role;
        this.manager = manager;
        this.domain = domain;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Envelope envelope) {
        CompletableFuture<Message> reply;
        try {
            reply = answer(ctx, envelope.message());
        } catch (RuntimeException e) {
            log.error("event=handler_failed role={} remote={} message={} error=\"{}\"", role, ctx.channel().remoteAddress(),
                    envelope.message().type(), e.toString(), e);
            reply = CompletableFuture.completedFuture(new ErrorReply(ErrorCode.INTERNAL, e.toString()));
        }
        if (reply == null) {
            return; // a reply of ours, or a message that needs none
        }
        reply.whenComplete((message, error) -> {
            Message out = error == null ? message : new ErrorReply(ErrorCode.INTERNAL, String.valueOf(error.getMessage()));
            if (ctx.channel().isActive()) {
                ctx.writeAndFlush(new Envelope(envelope.requestId(), out))
                        .addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
            }
        });
    }

    private CompletableFuture<Message> answer(ChannelHandlerContext ctx, Message message) {
        HandoffService handoffs = manager.handoffs();
        if (message instanceof Hello) {
            return done(new HelloReply(manager.config().node(), Frames.VERSION));
        }
        if (message instanceof HelloReply || message instanceof Ack) {
            return null;
        }
        if (message instanceof StatusRequest) {
            return done(new StatusReply(manager.status().toString()));
        }
        if (role == Role.CONTROL) {
            if (message instanceof ControlCommand command) {
                return done(control(command));
            }
            return done(unexpected(message));
        }
        if (message instanceof HandoffRequest request) {
            if (role == Role.AGENT && !request.domain().equals(domain)) {
                return done(new ErrorReply(ErrorCode.NOT_OWNER, "this channel belongs to domain " + domain
                        + ", not " + request.domain()));
            }
            return handoffs.handoff(request);
        }
        if (message instanceof HandoffComplete complete) {
            log.info("event=handoff_complete domain={} count={}", domain, complete.count());
            return done(new Ack());
        }
        if (message instanceof ReleaseRequest request) {
            return handoffs.release(request, ctx.channel());
        }
        if (message instanceof ReleaseConfirm confirm) {
            return handoffs.confirm(confirm);
        }
        if (message instanceof ReleaseAbort abort) {
            return handoffs.abort(abort);
        }
        return done(unexpected(message));
    }

    private Message control(ControlCommand command) {
        if (command.verb().equals("status")) {
            return new ControlReply(0, manager.status().toString());
        }
        return new ControlReply(2, "{\"error\":\"unknown command " + command.verb().replace("\"", "'") + "\"}");
    }

    private Message unexpected(Message message) {
        return new ErrorReply(ErrorCode.UNEXPECTED, message.type() + " is not accepted on a " + role + " channel");
    }

    private static CompletableFuture<Message> done(Message message) {
        return CompletableFuture.completedFuture(message);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        log.info("event=channel_open role={} domain={} remote={}", role, domain, ctx.channel().remoteAddress());
        super.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        log.info("event=channel_closed role={} domain={} remote={}", role, domain, ctx.channel().remoteAddress());
        manager.handoffs().requesterGone(ctx.channel());
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.warn("event=channel_error role={} domain={} remote={} error=\"{}\"", role, domain,
                ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
