package org.tcpferry.tests.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import org.junit.jupiter.api.Test;
import org.tcpferry.agent.core.Carried;
import org.tcpferry.agent.core.Phase;
import org.tcpferry.protocol.ErrorCode;
import org.tcpferry.protocol.ErrorReply;
import org.tcpferry.protocol.Frame;
import org.tcpferry.protocol.FrameStreams;
import org.tcpferry.protocol.Hello;
import org.tcpferry.protocol.HelloReply;
import org.tcpferry.protocol.Message;
import org.tcpferry.protocol.MessageCodec;
import org.tcpferry.protocol.ReleaseRequest;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.rig.StandardTopology;
import org.tcpferry.tests.agent.AgentBed.App;

/**
 * After a move, a host that does not hold the copy and does not relay to its holder ("hostB",
 * played by hand here: an old or misconfigured host manager) reaches the agent first and answers
 * UNKNOWN_FLOW on its own. The agent must not give the connection up (host A still holds it live):
 * it stays HANDED_OFF, and when host A reconnects the agent takes it back from host A, byte-exact.
 * A relaying host B is {@link HostToHostRelayTest}.
 */
@KernelTest
class ReclaimFromAnotherHostTest {

    @Test
    void unknownFlowFromAHostThatNeverHeldItKeepsTheConnectionHandedOff() throws Exception {
        try (AgentBed bed = AgentBed.create("agent-otherhost")) {
            App app = bed.app("client", StandardTopology.PEER_V4, 7951, 1, AgentBed.impatientStreaming(4096, 20));
            Thread.sleep(300);
            assertThat(bed.control("handoff").exitCode()).isZero();
            bed.awaitPhase(Phase.HANDED_OFF, 1, 20_000);
            assertThat(bed.agent.connections().get(0).holder()).isEqualTo("hostA-test");

            // Host A's channel drops (it reconnects a second later); "host B" gets there first.
            bed.hostA.endpoints().guestChannel(AgentBed.DOMAIN).close().sync();
            try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(bed.dir.resolve("agent.sock")))) {
                OutputStream out = Channels.newOutputStream(ch);
                InputStream in = Channels.newInputStream(ch);
                FrameStreams.write(out, MessageCodec.encode(1, new Hello(Hello.HOST, "hostB-test", AgentBed.DOMAIN)));
                assertThat(MessageCodec.decode(FrameStreams.read(in))).isInstanceOf(HelloReply.class);
                Frame frame = FrameStreams.read(in); // the agent reclaims on connect
                Message release = MessageCodec.decode(frame);
                assertThat(release).isInstanceOf(ReleaseRequest.class);
                FrameStreams.write(out, MessageCodec.encode(frame.requestId(),
                        new ErrorReply(ErrorCode.UNKNOWN_FLOW, "no held flow (host B)")));
                AgentBed.await(() -> bed.agent.connections().get(0).error() != null
                        && bed.agent.connections().get(0).error().contains("waiting for hostA-test"), 10_000,
                        "the agent to keep waiting for host A");
                Carried c = bed.agent.connections().get(0);
                assertThat(c.phase()).isEqualTo(Phase.HANDED_OFF);
            }
            assertThat(app.peers.get(0).failure()).isNull();

            bed.awaitAllBack(1, 20_000); // host A's reconnection is accepted next, and the agent reclaims from it
            assertThat(bed.agent.reports().get(0).phase()).isEqualTo(Phase.CONFORMED);
            assertThat(app.sockets()).containsAllEntriesOf(app.socketsBefore);
            System.out.println("echoed byte-exact both ways: " + app.finish(20_000));
        }
    }
}
