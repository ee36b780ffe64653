package org.tcpferry.host.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import java.nio.channels.ClosedChannelException;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * What the host sends on one channel (its replies, and its own requests), written in batches.
 * Replies become ready on many threads (most grants on a copy loop's thread); writing each with
 * its own writeAndFlush costs an event-loop task, a wake-up, a flush and a write(2) per message,
 * about 1 s of event-loop CPU for a reclaim of 10,000 connections. Here they queue, and one task
 * on the channel's event loop writes everything queued and flushes once. Messages go out in the
 * order they were queued; after a message that closes the channel nothing more is written.
 */
final class ChannelWriter {
    /** Bounds one drain so that a busy channel does not keep its event loop from the others. */
    private static final int MAX_BATCH = 1024;

    private final Channel channel;
    private final Queue<Outgoing> queue = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    /** A close-after message was written; only read and set on the event loop. */
    private boolean closing;

    ChannelWriter(Channel channel) {
        this.channel = channel;
    }

    /** Queues a reply; it is dropped if the channel is no longer active when its turn comes. */
    void reply(Envelope reply) {
        enqueue(new Outgoing(reply, false, null));
    }

    /** Queues a reply that ends the conversation: once it is written, the channel is closed. */
    void replyThenClose(Envelope reply) {
        enqueue(new Outgoing(reply, true, null));
    }

    /** Queues a request of the host's own; {@code failed} learns why, if it could not be written. */
    void request(Envelope request, Consumer<Throwable> failed) {
        enqueue(new Outgoing(request, false, failed));
    }

    private void enqueue(Outgoing message) {
        queue.add(message);
        scheduleDrain();
    }

    private void scheduleDrain() {
        if (!drainScheduled.compareAndSet(false, true)) {
            return; // a drain is pending and will take this message too
        }
        try {
            channel.eventLoop().execute(this::drain);
        } catch (RejectedExecutionException stopped) {
            // The event loop is shutting down with the host: the channel is gone, nothing more goes out.
            for (Outgoing left; (left = queue.poll()) != null; ) {
                left.refuse(stopped);
            }
        }
    }

    private void drain() {
        // Cleared before polling: a message queued from now on is either taken below or schedules the next drain.
        drainScheduled.set(false);
        boolean wrote = false;
        Outgoing next;
        for (int n = 0; n < MAX_BATCH && (next = queue.poll()) != null; n++) {
            if (closing) {
                next.refuse(new ClosedChannelException());
            } else if (next.failed != null) {
                // Written even on an inactive channel: Netty then fails the write, which fails the request.
                Consumer<Throwable> failed = next.failed;
                channel.write(next.envelope).addListener(f -> {
                    if (!f.isSuccess()) {
                        failed.accept(f.cause());
                    }
                });
                wrote = true;
            } else if (channel.isActive()) {
                // CLOSE waits for the write to complete, so the reply (and those before it) reach the socket first.
                channel.write(next.envelope).addListener(next.closeAfter ? ChannelFutureListener.CLOSE
                        : ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
                closing = next.closeAfter;
                wrote = true;
            }
        }
        if (wrote) {
            channel.flush();
        }
        if (!queue.isEmpty()) {
            scheduleDrain();
        }
    }

    /** One queued message; {@code failed} is set for the host's own requests only. */
    private record Outgoing(Envelope envelope, boolean closeAfter, Consumer<Throwable> failed) {
        /** Not written: a request learns why, a reply is dropped. */
        void refuse(Throwable why) {
            if (failed != null) {
                failed.accept(why);
            }
        }
    }
}
