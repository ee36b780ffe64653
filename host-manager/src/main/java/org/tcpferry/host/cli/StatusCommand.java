package org.tcpferry.host.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.tcpferry.host.StatusReport;
import org.tcpferry.host.config.ConfigLoader;
import org.tcpferry.host.config.HostConfig;
import org.tcpferry.protocol.ErrorReply;
import org.tcpferry.protocol.Frame;
import org.tcpferry.protocol.FrameStreams;
import org.tcpferry.protocol.Hello;
import org.tcpferry.protocol.Message;
import org.tcpferry.protocol.MessageCodec;
import org.tcpferry.protocol.StatusReply;
import org.tcpferry.protocol.StatusRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code tcpferry status}: asks the daemon over its control socket what it holds. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Show each domain's held connections: 4-tuple, age, bytes spooled each way, window state, "
                + "peer state and HoldState."})
final class StatusCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--json", description = "print the daemon's JSON status document")
    private boolean json;

    @Option(names = {"-s", "--socket"}, paramLabel = "PATH",
            description = "control socket (default: the config's controlSocket, else " + HostConfig.DEFAULT_CONTROL_SOCKET + ")")
    private Path socket;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "read the control socket path from this config")
    private Path config;

    @Override
    public Integer call() {
        Path path;
        try {
            path = socket != null ? socket
                    : config != null ? Path.of(ConfigLoader.load(config).controlSocket())
                    : Path.of(HostConfig.DEFAULT_CONTROL_SOCKET);
        } catch (IOException | IllegalArgumentException e) {
            spec.commandLine().getErr().println("tcpferry status: invalid configuration " + config + ": " + e.getMessage());
            return TcpferryCommand.BAD_CONFIG;
        }
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(path));
            InputStream in = Channels.newInputStream(channel);
            OutputStream out = Channels.newOutputStream(channel);
            ask(in, out, 1, new Hello(Hello.CONTROL, "cli", ""));
            Message reply = ask(in, out, 2, new StatusRequest());
            if (!(reply instanceof StatusReply status)) {
                spec.commandLine().getErr().println("tcpferry status: daemon answered " + reply);
                return TcpferryCommand.UNREACHABLE;
            }
            if (json) {
                spec.commandLine().getOut().println(status.json());
            } else {
                JsonNode tree = new ObjectMapper().readTree(status.json());
                spec.commandLine().getOut().print(StatusReport.table(tree));
            }
            spec.commandLine().getOut().flush();
            return TcpferryCommand.OK;
        } catch (IOException e) {
            spec.commandLine().getErr().println("tcpferry status: cannot reach the daemon at " + path + ": " + e.getMessage());
            return TcpferryCommand.UNREACHABLE;
        }
    }

    private static Message ask(InputStream in, OutputStream out, int requestId, Message request) throws IOException {
        FrameStreams.write(out, MessageCodec.encode(requestId, request));
        Frame frame = FrameStreams.read(in);
        if (frame == null) {
            throw new IOException("the daemon closed the connection");
        }
        Message reply = MessageCodec.decode(frame);
        if (reply instanceof ErrorReply error) {
            throw new IOException(error.code() + ": " + error.message());
        }
        return reply;
    }
}
