package org.tcpferry.host.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.tcpferry.host.StatusReport;
import org.tcpferry.protocol.Message;
import org.tcpferry.protocol.StatusReply;
import org.tcpferry.protocol.StatusRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tcpferry status}: asks the daemon over its control socket what it holds. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Show each domain's held connections: 4-tuple, age, bytes spooled each way, window state, "
                + "peer state and HoldState."})
final class StatusCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--json", description = "print the daemon's JSON status document")
    private boolean json;

    @Mixin
    private SocketOption socket;

    @Override
    public Integer call() {
        Path path;
        try {
            path = socket.path();
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("tcpferry status: " + e.getMessage());
            return TcpferryCommand.BAD_CONFIG;
        }
        try (ControlClient client = ControlClient.connect(path)) {
            Message reply = client.ask(new StatusRequest());
            if (!(reply instanceof StatusReply status)) {
                spec.commandLine().getErr().println("tcpferry status: daemon answered " + reply);
                return TcpferryCommand.UNREACHABLE;
            }
            spec.commandLine().getOut().print(json ? status.json() + System.lineSeparator()
                    : StatusReport.table(new ObjectMapper().readTree(status.json())));
            spec.commandLine().getOut().flush();
            return TcpferryCommand.OK;
        } catch (IOException e) {
            spec.commandLine().getErr().println("tcpferry status: cannot reach the daemon at " + path + ": " + e.getMessage());
            return TcpferryCommand.UNREACHABLE;
        }
    }
}
