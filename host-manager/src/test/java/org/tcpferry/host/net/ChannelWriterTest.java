package org.tcpferry.host.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.tcpferry.protocol.Ack;
import org.tcpferry.protocol.ErrorCode;
import org.tcpferry.protocol.ErrorReply;
import org.tcpferry.protocol.ReclaimOrder;

/** Replies and requests queued on one channel: written in queue order, flushed once per drain, nothing after a close. */
class ChannelWriterTest {

    @Test
    void manyRepliesAreWrittenInOrderWithOneFlush() {
        FlushCounter flushes = new FlushCounter();
        EmbeddedChannel channel = new EmbeddedChannel(flushes);
        ChannelWriter writer = new ChannelWriter(channel);
        List<Envelope> sent = new ArrayList<>();
        for (int id = 2; id <= 200; id += 2) {
            Envelope reply = new Envelope(id, new Ack());
            sent.add(reply);
            writer.reply(reply);
        }
        Envelope order = new Envelope(1, new ReclaimOrder());
        sent.add(order);
        writer.request(order, cause -> { throw new AssertionError("request not written", cause); });

        channel.runPendingTasks();

        assertThat(outbound(channel)).containsExactlyElementsOf(sent);
        assertThat(flushes.count).isEqualTo(1);
    }

    @Test
    void aClosingReplyFollowsThoseBeforeItAndNothingAfterItIsWritten() {
        EmbeddedChannel channel = new EmbeddedChannel();
        ChannelWriter writer = new ChannelWriter(channel);
        Envelope before = new Envelope(2, new Ack());
        Envelope refusal = new Envelope(4, new ErrorReply(ErrorCode.UNEXPECTED, "StatusRequest before Hello"));
        AtomicReference<Throwable> requestFailure = new AtomicReference<>();
        writer.reply(before);
        writer.replyThenClose(refusal);
        writer.reply(new Envelope(6, new Ack()));
        writer.request(new Envelope(1, new ReclaimOrder()), requestFailure::set);

        channel.runPendingTasks();

        assertThat(outbound(channel)).containsExactly(before, refusal);
        assertThat(channel.isOpen()).as("closed after the refusal").isFalse();
        assertThat(requestFailure.get()).as("a request queued after the close fails").isInstanceOf(ClosedChannelException.class);
    }

    @Test
    void onAClosedChannelRepliesAreDroppedAndRequestsFail() {
        EmbeddedChannel channel = new EmbeddedChannel();
        ChannelWriter writer = new ChannelWriter(channel);
        channel.close();
        AtomicReference<Throwable> requestFailure = new AtomicReference<>();
        writer.reply(new Envelope(2, new Ack()));
        writer.request(new Envelope(1, new ReclaimOrder()), requestFailure::set);

        channel.runPendingTasks();

        assertThat(outbound(channel)).isEmpty();
        assertThat(requestFailure.get()).isNotNull();
    }

    private static List<Object> outbound(EmbeddedChannel channel) {
        List<Object> out = new ArrayList<>();
        for (Object message; (message = channel.readOutbound()) != null; ) {
            out.add(message);
        }
        return out;
    }

    private static final class FlushCounter extends ChannelOutboundHandlerAdapter {
        int count;

        @Override
        public void flush(ChannelHandlerContext ctx) {
            count++;
            ctx.flush();
        }
    }
}
