package org.tcpferry.tests.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.tcpferry.host.HostManager;
import org.tcpferry.host.config.HostConfig;
import org.tcpferry.host.config.PeerConfig;
import org.tcpferry.testsupport.TestCertificates;
import org.tcpferry.protocol.Frame;
import org.tcpferry.protocol.FrameStreams;
import org.tcpferry.protocol.Hello;
import org.tcpferry.protocol.HelloReply;
import org.tcpferry.protocol.Message;
import org.tcpferry.protocol.MessageCodec;
import org.tcpferry.protocol.StatusReply;
import org.tcpferry.protocol.StatusRequest;

/**
 * The peer endpoint with mutual TLS: a host with a certificate from the trusted CA is served, one
 * without a certificate or with one from another CA is not. Certificates are made with openssl.
 * Needs no namespaces (no domains, loopback only).
 */
class PeerEndpointTest {
    private Path dir;
    private HostManager host;

    @BeforeEach
    void certificatesAndHost() throws Exception {
        dir = Files.createTempDirectory("tcpferry-tls");
        new TestCertificates(dir).ca("ca").ca("rogue-ca").leaf("server", "ca").leaf("client", "ca")
                .leaf("rogue", "rogue-ca");
        HostConfig config = new HostConfig("tls-host", "", new PeerConfig("127.0.0.1:0", file("server.pem"),
                file("server.key"), file("ca.pem"), false), dir.resolve("secret").toString(), null, null, "", List.of());
        host = HostManager.start(config);
    }

    @AfterEach
    void stop() throws Exception {
        if (host != null) {
            host.close();
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    @Test
    void hostWithTrustedCertificateIsServed() throws Exception {
        try (SSLSocket socket = connect(client("client"))) {
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            assertThat(ask(in, out, 1, new Hello(Hello.HOST, "other-host", ""))).isInstanceOf(HelloReply.class);
            Message status = ask(in, out, 2, new StatusRequest());
            assertThat(((StatusReply) status).json()).contains("\"node\":\"tls-host\"");
        }
    }

    @Test
    void hostWithoutCertificateOrFromAnotherCaIsRefused() throws Exception {
        for (SSLContext context : List.of(client(null), client("rogue"))) {
            assertThatThrownBy(() -> {
                try (SSLSocket socket = connect(context)) {
                    InputStream in = socket.getInputStream();
                    OutputStream out = socket.getOutputStream();
                    ask(in, out, 1, new Hello(Hello.HOST, "intruder", ""));
                }
            }).isInstanceOf(IOException.class);
        }
    }

    private SSLSocket connect(SSLContext context) throws IOException {
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1",
                host.endpoints().peerAddress().getPort());
        socket.setSoTimeout(10_000);
        socket.startHandshake();
        return socket;
    }

    private SSLContext client(String name) throws Exception {
        SslContextBuilder builder = SslContextBuilder.forClient().sslProvider(SslProvider.JDK)
                .trustManager(Path.of(file("ca.pem")).toFile());
        if (name != null) {
            builder.keyManager(Path.of(file(name + ".pem")).toFile(), Path.of(file(name + ".key")).toFile());
        }
        return ((JdkSslContext) builder.build()).context();
    }

    private static Message ask(InputStream in, OutputStream out, int id, Message request) throws IOException {
        FrameStreams.write(out, MessageCodec.encode(id, request));
        Frame frame = FrameStreams.read(in);
        if (frame == null) {
            throw new IOException("closed by the host");
        }
        return MessageCodec.decode(frame);
    }

    private String file(String name) {
        return dir.resolve(name).toString();
    }
}
