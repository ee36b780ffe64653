package org.tcpferry.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.junit.jupiter.api.Test;

class MessageCodecTest {

    @Provide
    Arbitrary<Message> messages() {
        return WireArbitraries.messages();
    }

    @Property(tries = 1000)
    void everyMessageSurvivesTheWire(@ForAll("messages") Message message, @ForAll int requestId) throws Exception {
        Statistics.collect(message.type());
        byte[] wire = MessageCodec.toBytes(requestId, message);

        Frame frame = new FrameDecoder().tryDecode(ByteBuffer.wrap(wire));

        assertThat(frame.requestId()).isEqualTo(requestId);
        assertThat(frame.type()).isEqualTo(message.type());
        assertThat(MessageCodec.decode(frame)).isEqualTo(message);
    }

    @Test
    void theGeneratorsCoverEveryMessageType() {
        Set<MessageType> seen = EnumSet.noneOf(MessageType.class);
        WireArbitraries.messages().sampleStream().limit(5000).forEach(m -> seen.add(m.type()));
        assertThat(seen).containsExactlyInAnyOrder(MessageType.values());
    }

    @Test
    void typeCodesAreUniqueAndStable() {
        assertThat(MessageType.ofCode(0x01)).isEqualTo(MessageType.HELLO);
        assertThat(MessageType.ofCode(0x11)).isEqualTo(MessageType.HANDOFF_REQUEST);
        assertThat(MessageType.ofCode(0x21)).isEqualTo(MessageType.RELEASE_GRANTED);
        assertThat(MessageType.ofCode(0x34)).isEqualTo(MessageType.PROGRESS);
        assertThat(MessageType.ofCode(0x00)).isNull();
        assertThat(MessageType.ofCode(0xff)).isNull();
        assertThat(EnumSet.allOf(MessageType.class).stream().map(t -> t.code).distinct().count())
                .isEqualTo(MessageType.values().length);
        assertThat(ErrorCode.MALFORMED.code).isEqualTo(1);
        assertThat(ErrorCode.INTERNAL.code).isEqualTo(14);
        assertThat(EnumSet.allOf(ErrorCode.class).stream().map(c -> c.code).distinct().count())
                .isEqualTo(ErrorCode.values().length);
    }

    /** The exact bytes of one frame, as docs/protocol.md shows them: a change here breaks deployed peers. */
    @Test
    void helloHasTheDocumentedBytes() {
        byte[] wire = MessageCodec.toBytes(7, new Hello(Hello.AGENT, "vm1", "dom"));

        assertThat(HexFormat.of().formatHex(wire)).isEqualTo(
                "5446" + "01" + "01" + "00000007" + "00000017"
                        + "00000005" + "6167656e74" + "00000003" + "766d31" + "00000003" + "646f6d");
    }

    @Test
    void flowKeyHasTheDocumentedBytes() {
        FlowKey flow = new FlowKey(new InetSocketAddress(WireArbitraries.v4(new byte[] {10, 0, 0, 2}), 5000),
                new InetSocketAddress(WireArbitraries.v4(new byte[] {10, 0, 0, 1}), 40000));
        Frame frame = MessageCodec.encode(1, new ReleaseRequest(flow, new byte[] {(byte) 0xab}));

        assertThat(HexFormat.of().formatHex(frame.payload()))
                .isEqualTo("04" + "0a000002" + "1388" + "04" + "0a000001" + "9c40" + "00000001" + "ab");
        assertThat(flow).hasToString("10.0.0.2:5000->10.0.0.1:40000");
    }

    @Test
    void releaseGrantedMayOmitTheStateOnlyAfterAPeerReset() throws Exception {
        Message message = MessageCodec.decode(MessageCodec.encode(3, new ReleaseGranted(null, true)));

        assertThat(message).isEqualTo(new ReleaseGranted(null, true));
        Frame noStateNoReset = new Frame(Frames.VERSION, MessageType.RELEASE_GRANTED, 3, new byte[] {0, 0});
        assertThatThrownBy(() -> MessageCodec.decode(noStateNoReset))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("only when the peer reset");
    }

    @Test
    void controlCommandKeepsArgumentOrderAndRefusesDuplicates() throws Exception {
        Map<String, String> args = new LinkedHashMap<>();
        args.put("z", "1");
        args.put("a", "2");
        args.put("m", "3");

        ControlCommand back = (ControlCommand) MessageCodec.decode(MessageCodec.encode(1, new ControlCommand("hold", args)));
        assertThat(back.args().keySet()).containsExactly("z", "a", "m");

        WireWriter w = new WireWriter().string("hold").u32(2).string("k").string("1").string("k").string("2");
        Frame duplicate = new Frame(Frames.VERSION, MessageType.CONTROL_COMMAND, 1, w.toByteArray());
        assertThatThrownBy(() -> MessageCodec.decode(duplicate))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("duplicate name 'k'");
    }

    @Test
    void anErrorCodeFromANewerPeerReadsAsInternal() throws Exception {
        byte[] payload = new WireWriter().u16(999).string("new thing").toByteArray();

        Message message = MessageCodec.decode(new Frame(Frames.VERSION, MessageType.ERROR_REPLY, 5, payload));

        assertThat(message).isEqualTo(new ErrorReply(ErrorCode.INTERNAL, "[error code 999] new thing"));
    }

    @Test
    void valuesTheRecordsRefuseAreMalformed() {
        Frame badRole = MessageCodec.encode(1, new Hello(Hello.AGENT, "n", "d"));
        byte[] payload = badRole.payload().clone();
        payload[4] = 'X'; // "agent" -> "Xgent"
        assertThatThrownBy(() -> MessageCodec.decode(new Frame(1, MessageType.HELLO, 1, payload)))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("unknown role 'Xgent'")
                .extracting(e -> ((ProtocolException) e).code()).isEqualTo(ErrorCode.MALFORMED);

        byte[] inverted = new WireWriter().u32(1).u16(9).u16(8).u32(0).u32(0).u32(0).u32(0).toByteArray();
        assertThatThrownBy(() -> MessageCodec.decode(new Frame(1, MessageType.HANDOFF_ORDER, 1, inverted)))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("bad port range 9..8");
    }

    @Test
    void invalidUtf8IsMalformed() {
        byte[] payload = new WireWriter().u32(2).raw(new byte[] {(byte) 0xc0, (byte) 0x80}).toByteArray();

        assertThatThrownBy(() -> MessageCodec.decode(new Frame(1, MessageType.STATUS_REPLY, 1, payload)))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("json: invalid UTF-8");
    }

    @Test
    void aFrameOfAnotherVersionIsUnsupported() {
        Frame v2 = new Frame(2, MessageType.ACK, 1, new byte[0]);

        assertThatThrownBy(() -> MessageCodec.decode(v2))
                .isInstanceOf(ProtocolException.class)
                .hasMessageContaining("version 2").hasMessageContaining("version 1")
                .extracting(e -> ((ProtocolException) e).code()).isEqualTo(ErrorCode.UNSUPPORTED_VERSION);
    }

    @Test
    void aProtocolExceptionBecomesItsErrorReply() {
        ProtocolException e = new ProtocolException(ErrorCode.TOO_LARGE, "too big");

        assertThat(e.toErrorReply()).isEqualTo(new ErrorReply(ErrorCode.TOO_LARGE, "too big"));
    }

    @Test
    void tokensStayOutOfToString() {
        FlowKey flow = new FlowKey(new InetSocketAddress(WireArbitraries.v4(new byte[] {1, 2, 3, 4}), 1),
                new InetSocketAddress(WireArbitraries.v4(new byte[] {5, 6, 7, 8}), 2));
        String text = new HandoffAccepted(flow, new byte[] {0x53, 0x45, 0x43}).toString();

        assertThat(text).isEqualTo("HandoffAccepted[1.2.3.4:1->5.6.7.8:2 <token 3B>]");
    }
}
