package org.tcpferry.tests.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tcpferry.host.cli.TcpferryCommand;
import org.tcpferry.host.libvirt.DiscoveredDomain;
import org.tcpferry.host.libvirt.LibvirtSession;
import org.tcpferry.protocol.ControlCommand;
import org.tcpferry.protocol.ControlReply;
import org.tcpferry.protocol.Frame;
import org.tcpferry.protocol.FrameStreams;
import org.tcpferry.protocol.Frames;
import org.tcpferry.protocol.Hello;
import org.tcpferry.protocol.HelloReply;
import org.tcpferry.protocol.Message;
import org.tcpferry.protocol.MessageCodec;

/**
 * The CLI's libvirt paths against libvirt's {@code test:///default} driver (needs libvirt0). Its
 * in-memory host with one running domain "test" is shared by every connection of this JVM, so
 * each test leaves "test" running as it found it. The daemon is a stand-in
 * control server that records the verbs and answers success, so these tests prove the order of
 * steps and the libvirt calls, not a real handoff (that is the host and agent tests' job).
 */
class LibvirtTestDriverCliTest {
    private static final String URI = "test:///default";

    @TempDir
    Path dir;

    private ServerSocketChannel server;
    private Thread serverThread;
    private final List<String> verbs = new CopyOnWriteArrayList<>();
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeEach
    void startStandInDaemon() throws IOException {
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(dir.resolve("control.sock")));
        serverThread = new Thread(this::serve, "stand-in-daemon");
        serverThread.setDaemon(true);
        serverThread.start();
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
        serverThread.interrupt();
    }

    private void serve() {
        while (server.isOpen()) {
            try (SocketChannel channel = server.accept()) {
                InputStream in = Channels.newInputStream(channel);
                OutputStream os = Channels.newOutputStream(channel);
                Frame frame;
                while ((frame = FrameStreams.read(in)) != null) {
                    Message message = MessageCodec.decode(frame);
                    Message reply = message instanceof Hello ? new HelloReply("stand-in", Frames.VERSION)
                            : reply((ControlCommand) message);
                    FrameStreams.write(os, MessageCodec.encode(frame.requestId(), reply));
                }
            } catch (IOException e) {
                return; // closed by the test
            }
        }
    }

    private Message reply(ControlCommand command) {
        verbs.add(command.verb() + " " + command.args().get("domain"));
        return new ControlReply(0, "{\"domain\":\"" + command.args().get("domain") + "\",\"held\":"
                + (command.verb().equals("handoff") ? 2 : 0) + "}");
    }

    private int run(String... args) {
        return TcpferryCommand.run(new PrintWriter(out), new PrintWriter(err), args);
    }

    @Test
    void saveOfAnUnknownDomainFailsWithLibvirtExitCodeAndHandsOffNothing() {
        int exit = run("save", "--connect", URI, "--socket", dir.resolve("control.sock").toString(), "nosuch",
                dir.resolve("x.sav").toString());
        assertThat(exit).isEqualTo(TcpferryCommand.LIBVIRT_FAILED);
        assertThat(verbs).isEmpty();
        assertThat(err.toString()).contains("look up domain nosuch").contains("nothing was handed off");
    }

    @Test
    void saveHandsOffAndSavesThenRestoreRestoresAndReclaims() throws IOException {
        String socket = dir.resolve("control.sock").toString();
        Path image = dir.resolve("test.sav");
        assertThat(run("save", "--json", "--connect", URI, "--socket", socket, "test", image.toString()))
                .as(err.toString()).isZero();
        assertThat(verbs).containsExactly("handoff test");
        assertThat(Files.size(image)).isPositive();
        assertThat(out.toString()).contains("\"ok\":true").contains("\"held\":2");
        assertThat(err.toString()).contains("[handoff]").contains("[save]");
        try (LibvirtSession session = LibvirtSession.open(URI)) {
            assertThat(session.isActive("test")).isFalse();
        }

        assertThat(run("restore", "--connect", URI, "--socket", socket, image.toString())).as(err.toString()).isZero();
        assertThat(verbs).containsExactly("handoff test", "reclaim test");
        assertThat(err.toString()).contains("[restore] restoring test from " + image);

        // "test" runs again: libvirt refuses a second restore, and the CLI says who holds the connections.
        verbs.clear();
        assertThat(run("restore", "--connect", URI, "--socket", socket, image.toString()))
                .isEqualTo(TcpferryCommand.LIBVIRT_FAILED);
        assertThat(err.toString()).contains("failed: restore " + image).contains("still holds");
        assertThat(verbs).isEmpty();
    }

    @Test
    void setupDomainAddsTheChannelAndShowsTheDiff() {
        int exit = run("setup-domain", "--connect", URI, "--address", "192.0.2.10", "test");
        assertThat(exit).as(err.toString()).isZero();
        assertThat(out.toString()).contains("+").contains("org.tcpferry.agent.0").contains("192.0.2.10")
                .contains("defined test");
    }

    @Test
    void discoveryReadsTestDomains() throws IOException {
        try (LibvirtSession session = LibvirtSession.open(URI)) {
            List<DiscoveredDomain> domains = session.discover();
            assertThat(domains).extracting(DiscoveredDomain::name).containsExactly("test");
            assertThat(domains.get(0).interfaces()).extracting(i -> i.mac()).containsExactly("aa:bb:cc:dd:ee:ff");
            session.define(org.tcpferry.host.libvirt.DomainXml.parse(session.inactiveXml("test"))
                    .withAddresses(List.of("10.9.0.2")));
            assertThat(org.tcpferry.host.libvirt.DomainXml.parse(session.inactiveXml("test")).addresses())
                    .containsExactly("10.9.0.2");
        }
    }

    @Test
    void discoveryOfOneDomainByNameTellsAnUnknownNameFromAFailure() throws IOException {
        try (LibvirtSession session = LibvirtSession.open(URI)) {
            assertThat(session.discover("test")).get().extracting(DiscoveredDomain::uuid)
                    .isEqualTo(session.discover().get(0).uuid());
            assertThat(session.discover("no-such-domain")).isEmpty();
        }
    }

    @Test
    void migrateOnTheTestDriverFailsAndGivesTheConnectionsBack() {
        int exit = run("migrate", "--connect", URI, "--socket", dir.resolve("control.sock").toString(), "test", URI);
        assertThat(exit).isEqualTo(TcpferryCommand.LIBVIRT_FAILED);
        assertThat(verbs).containsExactly("handoff test", "reclaim test");
        assertThat(err.toString()).contains("migrate test").contains("given back to the guest");
    }
}
