package org.tcpferry.tests.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tcpferry.agent.core.Agent;
import org.tcpferry.agent.core.AgentConfig;
import org.tcpferry.protocol.ErrorCode;
import org.tcpferry.protocol.ErrorReply;
import org.tcpferry.protocol.FrameStreams;
import org.tcpferry.protocol.HandoffOrder;
import org.tcpferry.protocol.Hello;
import org.tcpferry.protocol.HelloReply;
import org.tcpferry.protocol.Message;
import org.tcpferry.protocol.MessageCodec;
import org.tcpferry.protocol.ReclaimOrder;
import org.tcpferry.protocol.Ack;
import org.tcpferry.protocol.HandoffComplete;
import org.tcpferry.protocol.Selection;
import org.tcpferry.protocol.StatusReply;
import org.tcpferry.protocol.StatusRequest;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.rig.Namespace;
import org.tcpferry.rig.Rig;

/**
 * The agent's side of the wire, spoken to by hand over its unix channel: Hello, status, orders
 * with nothing to carry, a message it does not take, garbage (answered and closed), and the next
 * connection served after that. The agent works in a namespace of its own with no connections.
 */
@KernelTest
class AgentChannelTest {

    @Test
    void speaksTheProtocolAndServesTheNextConnectionAfterGarbage(@TempDir Path dir) throws Exception {
        try (Rig rig = Rig.create("agent-channel")) {
            Namespace guest = rig.namespace("guest");
            Path socket = dir.resolve("agent.sock");
            try (Agent agent = Agent.start(new AgentConfig("unix:" + socket, dir.resolve("journal"), "guest-x", "vm9",
                    guest.file(), true))) {
                AgentBed.await(() -> Files.exists(socket), 5_000, "the agent's socket");
                try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                    OutputStream out = Channels.newOutputStream(ch);
                    InputStream in = Channels.newInputStream(ch);
                    assertThat(exchange(out, in, 1, new Hello(Hello.HOST, "hostX", "vm9")))
                            .isEqualTo(new HelloReply("guest-x", 1));
                    Message status = exchange(out, in, 3, new StatusRequest());
                    assertThat(((StatusReply) status).json()).contains("\"domain\":\"vm9\"").contains("\"connections\":[]");
                    // Nothing to carry: the order completes with a count of 0, the reclaim reports nothing carried.
                    assertThat(exchange(out, in, 5, new HandoffOrder(Selection.all()))).isEqualTo(new HandoffComplete(0));
                    FrameStreams.write(out, MessageCodec.encode(5, new Ack()));
                    assertThat(exchange(out, in, 7, new ReclaimOrder()))
                            .isEqualTo(new StatusReply("{\"carried\":[],\"stillHandedOff\":0}"));
                    Message refused = exchange(out, in, 9, new HelloReply("hostX", 1));
                    assertThat(refused).isNull(); // a stray reply is dropped, never answered
                }
                try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                    OutputStream out = Channels.newOutputStream(ch);
                    InputStream in = Channels.newInputStream(ch);
                    out.write("GET / HTTP/1.0\r\n\r\n".getBytes());
                    Message error = MessageCodec.decode(FrameStreams.read(in));
                    assertThat(((ErrorReply) error).code()).isEqualTo(ErrorCode.MALFORMED);
                    assertThat(closed(in)).as("closed after garbage").isTrue();
                }
                try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                    OutputStream out = Channels.newOutputStream(ch);
                    InputStream in = Channels.newInputStream(ch);
                    assertThat(exchange(out, in, 1, new Hello(Hello.HOST, "hostY", "vm9"))).isInstanceOf(HelloReply.class);
                    assertThat(exchange(out, in, 3, new org.tcpferry.protocol.ReleaseConfirm(
                            new org.tcpferry.protocol.FlowKey(new java.net.InetSocketAddress("10.0.0.2", 1),
                                    new java.net.InetSocketAddress("10.0.0.1", 2)), new byte[8])))
                            .isInstanceOfSatisfying(ErrorReply.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNEXPECTED));
                }
            }
        }
    }

    /** End of stream, or a reset (the agent closed with the rest of the garbage unread). */
    private static boolean closed(InputStream in) throws Exception {
        try {
            return FrameStreams.read(in) == null;
        } catch (java.net.SocketException reset) {
            return true;
        }
    }

    /** Sends a request and returns the answer, or null for a message that gets none (checked by a status round trip). */
    private static Message exchange(OutputStream out, InputStream in, int id, Message message) throws Exception {
        FrameStreams.write(out, MessageCodec.encode(id, message));
        if (message instanceof HelloReply) {
            FrameStreams.write(out, MessageCodec.encode(id + 2, new StatusRequest()));
            Message next = MessageCodec.decode(FrameStreams.read(in));
            assertThat(next).isInstanceOf(StatusReply.class);
            return null;
        }
        return MessageCodec.decode(FrameStreams.read(in));
    }
}
