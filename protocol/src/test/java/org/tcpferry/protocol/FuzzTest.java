package org.tcpferry.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.statistics.Statistics;

/**
 * Hostile input: whatever arrives, decoding ends in a frame, a message, "incomplete" (null) or a
 * {@link ProtocolException}, never another exception, and the decoder keeps working.
 */
class FuzzTest {

    private final FrameDecoder decoder = new FrameDecoder(1024 * 1024);

    @Provide
    Arbitrary<Message> messages() {
        return WireArbitraries.messages();
    }

    @Provide
    Arbitrary<MessageType> types() {
        return Arbitraries.of(MessageType.class);
    }

    @Property(tries = 2000)
    void randomBytesAfterAValidHeader(@ForAll("types") MessageType type, @ForAll @Size(max = 200) byte[] payload) {
        Statistics.collect(outcome(new Frame(Frames.VERSION, type, 1, payload)));
    }

    /** Random bytes behind a plausible header start, through both readers: they must agree. */
    @Property(tries = 2000)
    void randomBytesAsAStream(@ForAll("types") MessageType type, @ForAll @Size(max = 100) byte[] garbage,
            @ForAll @net.jqwik.api.constraints.IntRange(min = 0, max = 4) int headerBytes) {
        byte[] start = Arrays.copyOf(new byte[] {'T', 'F', Frames.VERSION, (byte) type.code}, headerBytes);
        byte[] wire = new byte[start.length + garbage.length];
        System.arraycopy(start, 0, wire, 0, start.length);
        System.arraycopy(garbage, 0, wire, start.length, garbage.length);

        String incremental = feed(wire);
        String blocking = streamOutcome(wire);
        Statistics.collect(incremental);

        if (incremental.equals("incomplete")) {
            assertThat(blocking).isIn("end", "ended inside");
        } else {
            assertThat(blocking).isEqualTo(incremental);
        }
        assertDecoderStillWorks();
    }

    @Property(tries = 500)
    void oneFlippedBit(@ForAll("messages") Message message, @ForAll long seed) {
        byte[] wire = MessageCodec.toBytes(3, message);
        int bit = (int) Math.floorMod(seed, (long) wire.length * 8);
        wire[bit / 8] ^= (byte) (1 << (bit % 8));

        Statistics.collect(feed(wire));
        assertDecoderStillWorks();
    }

    @Property(tries = 300)
    void aFlippedBitInThePayload(@ForAll("messages") Message message, @ForAll long seed) {
        Frame frame = MessageCodec.encode(3, message);
        byte[] payload = frame.payload();
        if (payload.length == 0) {
            return;
        }
        int bit = (int) Math.floorMod(seed, (long) payload.length * 8);
        payload[bit / 8] ^= (byte) (1 << (bit % 8));

        Statistics.collect(outcome(new Frame(frame.version(), frame.type(), 3, payload)));
    }

    @Property(tries = 300)
    void everyTruncatedPayloadIsMalformed(@ForAll("messages") Message message) {
        byte[] payload = MessageCodec.encode(1, message).payload();
        for (int cut : FrameDecoderTest.cuts(payload.length)) {
            Frame truncated = new Frame(Frames.VERSION, message.type(), 1, Arrays.copyOf(payload, cut));
            if (cut == payload.length) {
                continue;
            }
            assertThatThrownBy(() -> MessageCodec.decode(truncated))
                    .as("%s cut at %d of %d", message.type(), cut, payload.length)
                    .isInstanceOf(ProtocolException.class)
                    .extracting(e -> ((ProtocolException) e).code()).isEqualTo(ErrorCode.MALFORMED);
        }
    }

    /** A 32-bit length anywhere in a payload set to a huge value: refused by the bounds check, no OOM. */
    @Property(tries = 500)
    void hugeDeclaredLengthsInsideThePayload(@ForAll("messages") Message message, @ForAll int where,
            @ForAll("hugeLengths") int length) {
        byte[] payload = MessageCodec.encode(1, message).payload();
        if (payload.length < 4) {
            return;
        }
        int at = Math.floorMod(where, payload.length - 3);
        ByteBuffer.wrap(payload).putInt(at, length);

        Statistics.collect(outcome(new Frame(Frames.VERSION, message.type(), 1, payload)));
    }

    @Provide
    Arbitrary<Integer> hugeLengths() {
        return Arbitraries.of(-1, Integer.MAX_VALUE, Integer.MIN_VALUE, 0x10000000, 0x00ffffff, 65536);
    }

    @Property(tries = 500)
    void unknownVersionsAndTypes(@ForAll byte version, @ForAll byte type) {
        byte[] header = {'T', 'F', version, type, 0, 0, 0, 1, 0, 0, 0, 0};
        try {
            Frame frame = decoder.tryDecode(ByteBuffer.wrap(header));
            assertThat(version).isEqualTo((byte) Frames.VERSION);
            assertThat(frame.type().code).isEqualTo(type & 0xff);
        } catch (ProtocolException e) {
            assertThat(e.code()).isEqualTo(version != Frames.VERSION ? ErrorCode.UNSUPPORTED_VERSION : ErrorCode.UNKNOWN_TYPE);
        }
        assertDecoderStillWorks();
    }

    /**
     * Decoding is canonical: a payload that decodes re-encodes to the same bytes, so two peers can
     * never disagree about what a frame meant.
     */
    @Property(tries = 500)
    void whateverDecodesReencodesIdentically(@ForAll("messages") Message message, @ForAll long seed) throws Exception {
        Frame frame = MessageCodec.encode(1, message);
        byte[] payload = frame.payload();
        if (payload.length > 0) {
            int bit = (int) Math.floorMod(seed, (long) payload.length * 8);
            payload[bit / 8] ^= (byte) (1 << (bit % 8));
        }
        Frame mutated = new Frame(Frames.VERSION, frame.type(), 1, payload);
        Message decoded;
        try {
            decoded = MessageCodec.decode(mutated);
        } catch (ProtocolException e) {
            Statistics.collect("refused");
            return;
        }
        Statistics.collect("decoded");
        if (decoded instanceof ErrorReply reply && ErrorCode.ofCode(ByteBuffer.wrap(payload).getShort() & 0xffff) == null) {
            return; // a code from a newer peer is read as INTERNAL on purpose
        }
        assertThat(MessageCodec.encode(1, decoded).payload()).isEqualTo(payload);
    }

    private String outcome(Frame frame) {
        try {
            MessageCodec.decode(frame);
            return "decoded";
        } catch (ProtocolException e) {
            return e.code().toString();
        }
    }

    /** Feeds bytes to the incremental decoder; any exception other than ProtocolException fails the test. */
    private String feed(byte[] wire) {
        ByteBuffer in = ByteBuffer.wrap(wire);
        try {
            Frame frame = decoder.tryDecode(in);
            if (frame == null) {
                assertThat(in.position()).isZero();
                return "incomplete";
            }
            return outcome(frame);
        } catch (ProtocolException e) {
            assertThat(in.position()).isZero();
            return e.code().toString();
        }
    }

    private static String streamOutcome(byte[] wire) {
        try {
            Frame frame = FrameStreams.read(new ByteArrayInputStream(wire), 1024 * 1024);
            if (frame == null) {
                return "end";
            }
            try {
                MessageCodec.decode(frame);
                return "decoded";
            } catch (ProtocolException e) {
                return e.code().toString();
            }
        } catch (ProtocolException e) {
            return e.getMessage().startsWith("stream ended inside") ? "ended inside" : e.code().toString();
        } catch (java.io.IOException e) {
            throw new AssertionError("a byte array stream cannot fail to read", e);
        }
    }

    private void assertDecoderStillWorks() {
        try {
            Frame frame = decoder.tryDecode(ByteBuffer.wrap(MessageCodec.toBytes(2, new Ack())));
            assertThat(MessageCodec.decode(frame)).isEqualTo(new Ack());
        } catch (ProtocolException e) {
            throw new AssertionError("the decoder no longer works after bad input", e);
        }
    }
}
