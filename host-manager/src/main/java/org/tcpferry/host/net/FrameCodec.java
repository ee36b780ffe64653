package org.tcpferry.host.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageCodec;
import java.nio.ByteBuffer;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tcpferry.protocol.ErrorReply;
import org.tcpferry.protocol.Frame;
import org.tcpferry.protocol.FrameDecoder;
import org.tcpferry.protocol.MessageCodec;
import org.tcpferry.protocol.ProtocolException;

/**
 * Frames in, {@link Envelope}s out, and back. A frame that does not decode is answered with an
 * {@link ErrorReply} and the connection is closed: after a framing error the stream position is
 * lost. Nothing else is affected: no held connection, no other channel.
 */
final class FrameCodec extends ByteToMessageCodec<Envelope> {
    private static final Logger log = LoggerFactory.getLogger(FrameCodec.class);

    private final FrameDecoder decoder;
    private final String endpoint;
    private final ChannelWriter writer;
    private boolean failed;

    /** @param writer the channel's writer: the error reply goes out after the replies queued before it */
    FrameCodec(int maxPayload, String endpoint, ChannelWriter writer) {
        this.decoder = new FrameDecoder(maxPayload);
        this.endpoint = endpoint;
        this.writer = writer;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Envelope envelope, ByteBuf out) {
        out.writeBytes(MessageCodec.toBytes(envelope.requestId(), envelope.message()));
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        ByteBuffer view = in.nioBuffer(in.readerIndex(), in.readableBytes());
        int requestId = 0;
        try {
            Frame frame = decoder.tryDecode(view);
            if (frame == null) {
                return;
            }
            in.skipBytes(view.position());
            requestId = frame.requestId();
            out.add(new Envelope(requestId, MessageCodec.decode(frame)));
        } catch (ProtocolException e) {
            failed = true;
            in.skipBytes(in.readableBytes());
            log.warn("event=bad_frame endpoint={} remote={} code={} error=\"{}\"", endpoint, ctx.channel().remoteAddress(),
                    e.code(), e.getMessage());
            writer.replyThenClose(new Envelope(requestId, e.toErrorReply()));
        }
    }
}
