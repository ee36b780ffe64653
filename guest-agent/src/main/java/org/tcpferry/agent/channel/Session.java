package org.tcpferry.agent.channel;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tcpferry.protocol.Ack;
import org.tcpferry.protocol.ControlReply;
import org.tcpferry.protocol.ErrorReply;
import org.tcpferry.protocol.Frame;
import org.tcpferry.protocol.FrameStreams;
import org.tcpferry.protocol.HandoffAccepted;
import org.tcpferry.protocol.Hello;
import org.tcpferry.protocol.HelloReply;
import org.tcpferry.protocol.Message;
import org.tcpferry.protocol.MessageCodec;
import org.tcpferry.protocol.Progress;
import org.tcpferry.protocol.ProtocolException;
import org.tcpferry.protocol.ReleaseGranted;
import org.tcpferry.protocol.StatusReply;

/**
 * One conversation with the host manager over a byte stream. The host connects and speaks first,
 * so it uses odd request ids and the agent even ones (docs/protocol.md). Replies complete the
 * future of the request with the same id; requests from the host go to the {@link Handler}.
 * Writes may come from any thread.
 */
public final class Session implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(Session.class);

    /** Receives the host's requests, on the session's reader thread. */
    public interface Handler {
        void onRequest(Session session, int requestId, Message message);

        void onClosed(Session session);
    }

    private final InputStream in;
    private final OutputStream out;
    private final Closeable resource;
    private final String name;
    private final Map<Integer, CompletableFuture<Message>> pending = new ConcurrentHashMap<>();
    private final AtomicInteger nextId = new AtomicInteger(2);
    private volatile boolean closed;
    /** Whether a Hello started a host conversation on this session. */
    private boolean helloSeen;
    /** Whether the stream broke inside a frame or on garbage (the next reader must find a frame start). */
    private volatile boolean brokeInsideStream;

    public Session(InputStream in, OutputStream out, Closeable resource, String name) {
        this.in = in;
        this.out = out;
        this.resource = resource;
        this.name = name;
    }

    public String name() {
        return name;
    }

    private volatile String peerNode = "";

    /** The node name the host gave in its Hello ("" before it). */
    public String peerNode() {
        return peerNode;
    }

    public void peerNode(String node) {
        this.peerNode = node;
    }

    public boolean isOpen() {
        return !closed;
    }

    /** Sends a request with a fresh even id; the future completes with the reply, or fails when the channel closes. */
    public CompletableFuture<Message> request(Message message) {
        int id = nextId.getAndAdd(2);
        CompletableFuture<Message> reply = new CompletableFuture<>();
        pending.put(id, reply);
        try {
            send(id, message);
        } catch (IOException e) {
            pending.remove(id);
            reply.completeExceptionally(e);
        }
        return reply;
    }

    /**
     * Sends {@code messages} as requests with fresh even ids in one write, in order; the futures
     * complete with their replies, or all fail when the channel closes or the write fails. One
     * write for a chunk of requests instead of one each: the host reads them in one go too.
     */
    public List<CompletableFuture<Message>> requestAll(List<? extends Message> messages) {
        if (messages.isEmpty()) {
            return List.of();
        }
        List<CompletableFuture<Message>> replies = new ArrayList<>(messages.size());
        List<Integer> ids = new ArrayList<>(messages.size());
        ByteArrayOutputStream frames = new ByteArrayOutputStream(messages.size() * 256);
        for (Message message : messages) {
            int id = nextId.getAndAdd(2);
            CompletableFuture<Message> reply = new CompletableFuture<>();
            pending.put(id, reply);
            ids.add(id);
            replies.add(reply);
            frames.writeBytes(MessageCodec.toBytes(id, message));
        }
        try {
            write(frames.toByteArray());
        } catch (IOException e) {
            ids.forEach(pending::remove);
            replies.forEach(r -> r.completeExceptionally(e));
        }
        return replies;
    }

    /**
     * Sends a message that belongs to the host's request {@code id} and is answered with that id
     * (HandoffComplete carries the HandoffOrder's id, and the host acknowledges it with the same).
     */
    public CompletableFuture<Message> request(int id, Message message) throws IOException {
        CompletableFuture<Message> reply = new CompletableFuture<>();
        pending.put(id, reply);
        try {
            send(id, message);
        } catch (IOException e) {
            pending.remove(id);
            throw e;
        }
        return reply;
    }

    /** Sends a message with a given id: a reply, or a message that belongs to the host's request (HandoffComplete). */
    public void send(int requestId, Message message) throws IOException {
        write(MessageCodec.toBytes(requestId, message));
    }

    private void write(byte[] bytes) throws IOException {
        if (closed) {
            throw new IOException("channel " + name + " is closed");
        }
        synchronized (out) {
            out.write(bytes);
            out.flush();
        }
    }

    /** Reads until the stream ends or fails; runs on the caller's thread. */
    public void readLoop(Handler handler) {
        try {
            while (!closed) {
                Frame frame = FrameStreams.read(in);
                if (frame == null) {
                    log.info("event=channel_ended channel={}", name);
                    break;
                }
                Message message = MessageCodec.decode(frame);
                if (isReply(message)) {
                    CompletableFuture<Message> waiting = pending.remove(frame.requestId());
                    if (waiting == null) {
                        log.warn("event=unmatched_reply channel={} id={} message={}", name, frame.requestId(), message);
                    } else {
                        waiting.complete(message);
                    }
                } else {
                    if (message instanceof Hello) {
                        startConversation();
                    }
                    handler.onRequest(this, frame.requestId(), message);
                }
            }
        } catch (ProtocolException e) {
            brokeInsideStream = true;
            log.warn("event=protocol_error channel={} error=\"{}\"", name, e.getMessage());
            try {
                send(0, e.toErrorReply());
            } catch (IOException | RuntimeException sendFailure) {
                log.debug("event=error_reply_not_sent channel={} error=\"{}\"", name, sendFailure.toString());
            }
        } catch (IOException e) {
            if (!closed) {
                log.info("event=channel_lost channel={} error=\"{}\"", name, e.getMessage());
            }
        } finally {
            close();
            handler.onClosed(this);
        }
    }

    /**
     * A Hello on a session that already had one is a new host conversation on the same stream: on a
     * virtio-serial port the host side can change (migration, a restarted host manager) without the
     * guest seeing the port disconnect. Requests of the old conversation will never be answered.
     */
    private void startConversation() {
        if (helloSeen) {
            log.info("event=host_conversation_replaced channel={} pending={}", name, pending.size());
            IOException gone = new IOException("the host on " + name + " started a new conversation");
            pending.values().forEach(f -> f.completeExceptionally(gone));
            pending.clear();
        }
        helloSeen = true;
    }

    /** Whether the session ended inside a frame or on bytes that are not a frame (only meaningful after it ended). */
    public boolean brokeInsideStream() {
        return brokeInsideStream;
    }

    private static boolean isReply(Message m) {
        return m instanceof HelloReply || m instanceof Ack || m instanceof ErrorReply || m instanceof HandoffAccepted
                || m instanceof ReleaseGranted || m instanceof StatusReply || m instanceof ControlReply
                || m instanceof Progress;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            resource.close();
        } catch (IOException e) {
            log.warn("event=channel_close_failed channel={} error=\"{}\"", name, e.getMessage());
        }
        IOException gone = new IOException("channel " + name + " closed");
        pending.values().forEach(f -> f.completeExceptionally(gone));
        pending.clear();
    }

    @Override
    public String toString() {
        return name;
    }
}
