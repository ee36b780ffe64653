package org.tcpferry.host.net;

import io.netty.channel.Channel;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.tcpferry.protocol.Ack;
import org.tcpferry.protocol.ControlReply;
import org.tcpferry.protocol.ErrorReply;
import org.tcpferry.protocol.HandoffAccepted;
import org.tcpferry.protocol.HelloReply;
import org.tcpferry.protocol.Message;
import org.tcpferry.protocol.Progress;
import org.tcpferry.protocol.ReleaseGranted;
import org.tcpferry.protocol.StatusReply;

/**
 * The host's own requests on one channel (Hello when it connected, HandoffOrder, ReclaimOrder)
 * and the replies that complete them. Both ends send requests on an agent channel, so ids are
 * split by parity (docs/protocol.md): the side that opened the connection uses odd ids, the
 * accepting side even ones.
 */
final class Conversation {
    private final Channel channel;
    private final ChannelWriter writer;
    private final AtomicInteger nextId;
    private final Map<Integer, CompletableFuture<Message>> pending = new ConcurrentHashMap<>();

    /**
     * @param writer sends on {@code channel}; shared with the replies, so all the host sends keeps its order
     * @param opener whether this host opened the connection
     */
    Conversation(Channel channel, ChannelWriter writer, boolean opener) {
        this.channel = channel;
        this.writer = writer;
        this.nextId = new AtomicInteger(opener ? 1 : 2);
    }

    /** Whether the channel is still connected. */
    boolean isOpen() {
        return channel.isActive();
    }

    /** Sends {@code request} with a fresh id; completes with the message that carries that id back. */
    CompletableFuture<Message> request(Message request) {
        int id = nextId.getAndAdd(2);
        CompletableFuture<Message> reply = new CompletableFuture<>();
        pending.put(id, reply);
        writer.request(new Envelope(id, request), cause -> failed(id, cause));
        return reply;
    }

    /** Completes the request {@code id} with {@code message}; false when nothing waits for it. */
    boolean complete(int id, Message message) {
        CompletableFuture<Message> waiting = pending.remove(id);
        if (waiting == null) {
            return false;
        }
        waiting.complete(message);
        return true;
    }

    /** The channel closed: every request still waiting fails. */
    void closed() {
        IOException gone = new IOException("channel " + channel.remoteAddress() + " closed before replying");
        pending.values().forEach(f -> f.completeExceptionally(gone));
        pending.clear();
    }

    private void failed(int id, Throwable cause) {
        CompletableFuture<Message> waiting = pending.remove(id);
        if (waiting != null) {
            waiting.completeExceptionally(cause);
        }
    }

    /** Replies are never answered (docs/protocol.md): they complete a request or are dropped. */
    static boolean isReply(Message m) {
        return m instanceof HelloReply || m instanceof Ack || m instanceof ErrorReply || m instanceof HandoffAccepted
                || m instanceof ReleaseGranted || m instanceof StatusReply || m instanceof ControlReply
                || m instanceof Progress;
    }
}
