package org.tcpferry.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class FrameDecoderTest {

    private final FrameDecoder decoder = new FrameDecoder(1024 * 1024 * 4);

    @Provide
    Arbitrary<Message> messages() {
        return WireArbitraries.messages();
    }

    @Property(tries = 200)
    void everyPrefixIsIncompleteAndConsumesNothing(@ForAll("messages") Message message) throws Exception {
        byte[] wire = MessageCodec.toBytes(9, message);
        for (int cut : cuts(wire.length)) {
            ByteBuffer partial = ByteBuffer.wrap(wire, 0, cut);

            assertThat(decoder.tryDecode(partial)).as("prefix of %d bytes", cut).isNull();
            assertThat(partial.position()).isZero();
        }
        ByteBuffer whole = ByteBuffer.wrap(wire);
        assertThat(MessageCodec.decode(decoder.tryDecode(whole))).isEqualTo(message);
        assertThat(whole.hasRemaining()).isFalse();
    }

    /** What an event loop does: read what arrived, take out every whole frame, compact, read more. */
    @Property(tries = 100)
    void framesArrivingInArbitraryPiecesComeOutInOrder(@ForAll("messages") Message a, @ForAll("messages") Message b,
            @ForAll("messages") Message c, @ForAll @net.jqwik.api.constraints.IntRange(min = 1, max = 5000) int piece)
            throws Exception {
        ByteBuffer stream = ByteBuffer.allocate(0);
        for (Message m : List.of(a, b, c)) {
            stream = concat(stream, ByteBuffer.wrap(MessageCodec.toBytes(m.type().code, m)));
        }
        stream.flip();
        ByteBuffer receive = ByteBuffer.allocate(stream.remaining());
        List<Message> out = new ArrayList<>();
        while (stream.hasRemaining()) {
            ByteBuffer slice = stream.slice();
            slice.limit(Math.min(piece, slice.remaining()));
            receive.put(slice);
            stream.position(stream.position() + slice.limit());
            receive.flip();
            for (Frame f; (f = decoder.tryDecode(receive)) != null; ) {
                out.add(MessageCodec.decode(f));
            }
            receive.compact();
        }

        assertThat(out).containsExactly(a, b, c);
        assertThat(receive.position()).isZero();
    }

    @Test
    void badMagicFailsOnTheFirstByte() {
        assertThatThrownBy(() -> decoder.tryDecode(ByteBuffer.wrap("G".getBytes())))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("bad magic")
                .extracting(e -> ((ProtocolException) e).code()).isEqualTo(ErrorCode.MALFORMED);
    }

    @Test
    void anotherVersionIsNamedWithOurs() {
        ByteBuffer v7 = ByteBuffer.wrap(new byte[] {'T', 'F', 7});

        assertThatThrownBy(() -> decoder.tryDecode(v7))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("peer sent protocol version 7, this side speaks version 1")
                .extracting(e -> ((ProtocolException) e).code()).isEqualTo(ErrorCode.UNSUPPORTED_VERSION);
        assertThat(v7.position()).isZero();
    }

    @Test
    void anUnknownTypeIsRefused() {
        assertThatThrownBy(() -> decoder.tryDecode(ByteBuffer.wrap(new byte[] {'T', 'F', 1, (byte) 0x99})))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("unknown message type 0x99")
                .extracting(e -> ((ProtocolException) e).code()).isEqualTo(ErrorCode.UNKNOWN_TYPE);
    }

    @Test
    void anOversizedLengthIsRefusedFromTheHeaderAlone() {
        // Only the 12 header bytes exist: the decision cannot depend on reading or allocating the payload.
        ByteBuffer header = ByteBuffer.allocate(12).put(new byte[] {'T', 'F', 1, 0x04}).putInt(1).putInt(-1).flip();

        assertThatThrownBy(() -> decoder.tryDecode(header))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("payload of 4294967295 bytes exceeds the limit of 4194304")
                .extracting(e -> ((ProtocolException) e).code()).isEqualTo(ErrorCode.TOO_LARGE);
    }

    @Test
    void aPayloadExactlyAtTheLimitIsAccepted() throws Exception {
        FrameDecoder small = new FrameDecoder(10);
        Frame frame = new Frame(1, MessageType.STATUS_REPLY, 1, new byte[10]);

        assertThat(small.tryDecode(ByteBuffer.wrap(Frames.toBytes(frame)))).isEqualTo(frame);
        assertThatThrownBy(() -> small.tryDecode(ByteBuffer.wrap(Frames.toBytes(
                new Frame(1, MessageType.STATUS_REPLY, 1, new byte[11])))))
                .isInstanceOf(ProtocolException.class);
    }

    @Test
    void theDecoderServesTheNextConnectionAfterAFailure() throws Exception {
        assertThatThrownBy(() -> decoder.tryDecode(ByteBuffer.wrap(new byte[] {'T', 'F', 2})))
                .isInstanceOf(ProtocolException.class);

        Frame next = decoder.tryDecode(ByteBuffer.wrap(MessageCodec.toBytes(1, new Ack())));
        assertThat(MessageCodec.decode(next)).isEqualTo(new Ack());
    }

    @Test
    void aDirectBufferWithAnOffsetWorks() throws Exception {
        byte[] wire = MessageCodec.toBytes(4, new StatusReply("{}"));
        ByteBuffer direct = ByteBuffer.allocateDirect(wire.length + 3);
        direct.put(new byte[3]).put(wire).flip().position(3);

        assertThat(MessageCodec.decode(decoder.tryDecode(direct))).isEqualTo(new StatusReply("{}"));
        assertThat(direct.hasRemaining()).isFalse();
    }

    static List<Integer> cuts(int length) {
        List<Integer> cuts = new ArrayList<>();
        for (int cut = 0; cut < length; cut += cut < 300 ? 1 : Math.max(1, length / 40)) {
            cuts.add(cut);
        }
        if (length > 0) {
            cuts.add(length - 1);
        }
        return cuts;
    }

    private static ByteBuffer concat(ByteBuffer a, ByteBuffer b) {
        ByteBuffer out = ByteBuffer.allocate(a.position() + b.remaining());
        a.flip();
        return out.put(a).put(b);
    }
}
