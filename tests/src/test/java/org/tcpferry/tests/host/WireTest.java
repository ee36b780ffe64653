package org.tcpferry.tests.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tcpferry.rig.StandardTopology.PEER_V4;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.tcpferry.host.cli.TcpferryCommand;
import org.tcpferry.host.config.QuotaConfig;
import org.tcpferry.protocol.Ack;
import org.tcpferry.protocol.ErrorCode;
import org.tcpferry.protocol.ErrorReply;
import org.tcpferry.protocol.Frame;
import org.tcpferry.protocol.FrameStreams;
import org.tcpferry.protocol.HandoffAccepted;
import org.tcpferry.protocol.HandoffComplete;
import org.tcpferry.protocol.HandoffOrder;
import org.tcpferry.protocol.HandoffRequest;
import org.tcpferry.protocol.Hello;
import org.tcpferry.protocol.HelloReply;
import org.tcpferry.protocol.Message;
import org.tcpferry.protocol.MessageCodec;
import org.tcpferry.protocol.ReclaimOrder;
import org.tcpferry.protocol.ReleaseConfirm;
import org.tcpferry.protocol.ReleaseGranted;
import org.tcpferry.protocol.ReleaseRequest;
import org.tcpferry.protocol.StatusReply;
import org.tcpferry.protocol.StatusRequest;
import org.tcpferry.repair.ConnectionState;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.tests.host.HostTestBed.Conn;
import org.tcpferry.tests.host.HostTestBed.PeerTuning;

/**
 * The same handoff and release through the daemon's real endpoints: the guest channel (TCP on
 * loopback, listen mode), the control socket via {@code tcpferry status}, and the metrics page.
 * A garbage frame gets an ErrorReply and a closed channel, and the held connection does not notice.
 */
@KernelTest
class WireTest {

    @Test
    void handoffAndReleaseOverTheGuestChannel() throws Exception {
        try (HostTestBed bed = HostTestBed.create("host wire", QuotaConfig.defaults(), "tcp:127.0.0.1:0", "listen")) {
            Conn conn = bed.connect(PEER_V4, 7030, PeerTuning.IMPATIENT).streaming(5);
            Thread.sleep(200);
            ConnectionState state = bed.capture(conn);
            var channel = bed.host().endpoints().guestListenAddress(HostTestBed.DOMAIN);

            try (AgentWire agent = new AgentWire(channel)) {
                assertThat(agent.ask(new Hello(Hello.AGENT, "guest", HostTestBed.DOMAIN))).isInstanceOf(HelloReply.class);
                Message reply = agent.ask(new HandoffRequest(HostTestBed.DOMAIN, state));
                assertThat(reply).isInstanceOf(HandoffAccepted.class);
                HandoffAccepted accepted = (HandoffAccepted) reply;
                assertThat(agent.ask(new HandoffComplete(1))).isInstanceOf(Ack.class);
                Message foreign = agent.ask(new HandoffRequest("other-vm", state));
                assertThat(((ErrorReply) foreign).code()).isEqualTo(ErrorCode.NOT_OWNER);

                // A broken frame: ErrorReply, channel closed, nothing else touched.
                try (AgentWire confused = new AgentWire(channel)) {
                    confused.sendRaw("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    Message error = confused.read();
                    assertThat(error).isInstanceOf(ErrorReply.class);
                    assertThat(((ErrorReply) error).code()).isEqualTo(ErrorCode.MALFORMED);
                    assertThat(confused.read()).as("channel closed after a bad frame").isNull();
                }
                // Hello and garbage in one write: the Hello is answered before the error, then the channel closes.
                try (AgentWire hasty = new AgentWire(channel)) {
                    ByteArrayOutputStream both = new ByteArrayOutputStream();
                    FrameStreams.write(both, MessageCodec.encode(1, new Hello(Hello.AGENT, "guest", HostTestBed.DOMAIN)));
                    both.write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    hasty.sendRaw(both.toByteArray());
                    assertThat(hasty.read()).isInstanceOf(HelloReply.class);
                    assertThat(hasty.read()).isInstanceOfSatisfying(ErrorReply.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED));
                    assertThat(hasty.read()).as("channel closed after a bad frame").isNull();
                }
                // Requests before Hello, sent together: the first is answered UNEXPECTED and the channel
                // closes after that reply, so the second gets none.
                try (AgentWire early = new AgentWire(channel)) {
                    ByteArrayOutputStream both = new ByteArrayOutputStream();
                    FrameStreams.write(both, MessageCodec.encode(1, new StatusRequest()));
                    FrameStreams.write(both, MessageCodec.encode(3, new StatusRequest()));
                    early.sendRaw(both.toByteArray());
                    Message error = early.read();
                    assertThat(error).isInstanceOfSatisfying(ErrorReply.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.UNEXPECTED));
                    assertThat(early.read()).as("channel closed after the reply to a request before Hello").isNull();
                }
                // A first Hello for another role is refused, and the channel closes after the refusal.
                try (AgentWire stranger = new AgentWire(channel)) {
                    assertThat(stranger.ask(new Hello(Hello.CONTROL, "stranger", "")))
                            .isInstanceOfSatisfying(ErrorReply.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.REFUSED));
                    assertThat(stranger.read()).as("channel closed after a refused Hello").isNull();
                }
                // A release whose requester vanishes before confirming: the copy holds again.
                try (AgentWire vanishing = new AgentWire(channel)) {
                    vanishing.ask(new Hello(Hello.AGENT, "guest", HostTestBed.DOMAIN));
                    assertThat(vanishing.ask(new ReleaseRequest(accepted.flow(), accepted.token())))
                            .isInstanceOf(ReleaseGranted.class);
                }
                Holds.awaitStatus(bed, accepted.flow(), e -> e.path("state").asText().equals("HOLDING"), 5000);
                Thread.sleep(1000);
                assertThat(conn.stream.failure()).isNull();

                String json = cli("status", "--json", "--socket", bed.config().controlSocket());
                assertThat(json).contains(accepted.flow().toString()).contains("\"state\":\"HOLDING\"");
                String table = cli("status", "--socket", bed.config().controlSocket());
                assertThat(table).contains("HOLDING").contains("open").contains(accepted.flow().toString());
                System.out.print(table);

                String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                        "http://127.0.0.1:" + bed.host().metricsAddress().getPort() + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                assertThat(metrics).contains("tcpferry_held_connections 1").contains("tcpferry_handoff_seconds_count 1")
                        .contains("tcpferry_release_seconds_count 1").contains("tcpferry_spooled_bytes");

                Message granted = agent.ask(new ReleaseRequest(accepted.flow(), accepted.token()));
                assertThat(granted).isInstanceOf(ReleaseGranted.class);
                bed.handBack(conn, ((ReleaseGranted) granted).finalState());
                assertThat(agent.ask(new ReleaseConfirm(accepted.flow(), accepted.token()))).isInstanceOf(Ack.class);
            }
            Thread.sleep(300);
            String sent = conn.stream.finish();
            assertThat(conn.reader.awaitEof(10_000)).isEqualTo(sent);
        }
    }

    @Test
    void hostConnectsToTheAgentsUnixSocketAndReconnectsWhenItGoesAway() throws Exception {
        Path dir = Files.createTempDirectory("tcpferry-agent-socket");
        Path path = dir.resolve("agent.sock");
        try (ServerSocketChannel agentSide = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            agentSide.bind(UnixDomainSocketAddress.of(path));
            try (HostTestBed bed = HostTestBed.create("host connect", QuotaConfig.defaults(), path.toString(), "connect")) {
                for (int round = 0; round < 2; round++) { // the second round is the reconnect
                    try (SocketChannel channel = agentSide.accept()) {
                        InputStream in = Channels.newInputStream(channel);
                        OutputStream out = Channels.newOutputStream(channel);
                        Frame hello = FrameStreams.read(in);
                        assertThat(MessageCodec.decode(hello)).isEqualTo(new Hello(Hello.HOST, "hostA-test", HostTestBed.DOMAIN));
                        FrameStreams.write(out, MessageCodec.encode(hello.requestId(), new HelloReply("guest", 1)));
                        assertThat(hello.requestId()).as("the opener's first id").isEqualTo(1);
                        FrameStreams.write(out, MessageCodec.encode(2, new StatusRequest()));
                        Frame reply = FrameStreams.read(in);
                        assertThat(reply.requestId()).isEqualTo(2);
                        assertThat(((StatusReply) MessageCodec.decode(reply)).json()).contains("\"vm1\"");
                    }
                }
            }
        } finally {
            Files.deleteIfExists(path);
            Files.deleteIfExists(dir);
        }
    }

    @Test
    void handoffAndReclaimOrderedFromTheCli() throws Exception {
        Path dir = Files.createTempDirectory("tcpferry-agent-socket");
        Path path = dir.resolve("agent.sock");
        try (ServerSocketChannel agentSide = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            agentSide.bind(UnixDomainSocketAddress.of(path));
            try (HostTestBed bed = HostTestBed.create("host orders", QuotaConfig.defaults(), path.toString(), "connect");
                    SocketChannel channel = agentSide.accept()) {
                InputStream in = Channels.newInputStream(channel);
                OutputStream out = Channels.newOutputStream(channel);
                Frame hello = FrameStreams.read(in);
                FrameStreams.write(out, MessageCodec.encode(hello.requestId(), new HelloReply("guest", 1)));
                Conn conn = bed.connect(PEER_V4, 7031, PeerTuning.IMPATIENT).streaming(5);
                Thread.sleep(200);
                String control = bed.config().controlSocket();

                CompletableFuture<Integer> handoff = CompletableFuture.supplyAsync(
                        () -> TcpferryCommand.run("handoff", HostTestBed.DOMAIN, "--socket", control));
                Frame order = FrameStreams.read(in);
                assertThat(MessageCodec.decode(order)).isInstanceOf(HandoffOrder.class);
                FrameStreams.write(out, MessageCodec.encode(2, new HandoffRequest(HostTestBed.DOMAIN, bed.capture(conn))));
                Frame accepted = FrameStreams.read(in);
                assertThat(accepted.requestId()).isEqualTo(2);
                HandoffAccepted held = (HandoffAccepted) MessageCodec.decode(accepted);
                FrameStreams.write(out, MessageCodec.encode(order.requestId(), new HandoffComplete(1)));
                assertThat(MessageCodec.decode(FrameStreams.read(in))).isInstanceOf(Ack.class);
                assertThat(handoff.get(30, TimeUnit.SECONDS)).as("exit code of tcpferry handoff").isZero();
                Thread.sleep(1000);

                CompletableFuture<Integer> reclaim = CompletableFuture.supplyAsync(
                        () -> TcpferryCommand.run("reclaim", HostTestBed.DOMAIN, "--socket", control));
                Frame reclaimOrder = FrameStreams.read(in);
                assertThat(MessageCodec.decode(reclaimOrder)).isInstanceOf(ReclaimOrder.class);
                FrameStreams.write(out, MessageCodec.encode(4, new ReleaseRequest(held.flow(), held.token())));
                ReleaseGranted granted = (ReleaseGranted) MessageCodec.decode(FrameStreams.read(in));
                bed.handBack(conn, granted.finalState());
                FrameStreams.write(out, MessageCodec.encode(6, new ReleaseConfirm(held.flow(), held.token())));
                assertThat(MessageCodec.decode(FrameStreams.read(in))).isInstanceOf(Ack.class);
                FrameStreams.write(out, MessageCodec.encode(reclaimOrder.requestId(), new Ack()));
                assertThat(reclaim.get(30, TimeUnit.SECONDS)).as("exit code of tcpferry reclaim").isZero();

                Thread.sleep(300);
                String sent = conn.stream.finish();
                assertThat(conn.reader.awaitEof(10_000)).isEqualTo(sent);
                assertThat(TcpferryCommand.run("handoff", "no-such-vm", "--socket", control)).isEqualTo(2);
            }
        } finally {
            Files.deleteIfExists(path);
            Files.deleteIfExists(dir);
        }
    }

    /** Runs the CLI in-process and returns what it printed; fails on a non-zero exit. */
    private static String cli(String... args) {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int exit;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            exit = TcpferryCommand.run(args);
        } finally {
            System.setOut(original);
        }
        assertThat(exit).as("exit code of tcpferry " + String.join(" ", args)).isZero();
        return captured.toString(StandardCharsets.UTF_8);
    }
}
