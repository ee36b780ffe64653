package org.tcpferry.host.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.tcpferry.protocol.ControlCommand;
import org.tcpferry.protocol.ControlReply;
import org.tcpferry.protocol.Message;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code tcpferry handoff DOMAIN} and {@code tcpferry reclaim DOMAIN}: have the daemon order the
 * domain's agent to hand all its connections to the host (before a suspend or save), or to take
 * them all back (when the guest runs again). Prints the daemon's JSON result.
 */
abstract class OrderCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DOMAIN", description = "the domain's name in the daemon's config")
    private String domain;

    @Mixin
    private SocketOption socket;

    abstract String verb();

    @Override
    public Integer call() {
        Path path;
        try {
            path = socket.path();
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("tcpferry " + verb() + ": " + e.getMessage());
            return TcpferryCommand.BAD_CONFIG;
        }
        try (ControlClient client = ControlClient.connect(path)) {
            Message reply = client.ask(new ControlCommand(verb(), Map.of("domain", domain)));
            if (!(reply instanceof ControlReply result)) {
                spec.commandLine().getErr().println("tcpferry " + verb() + ": daemon answered " + reply);
                return TcpferryCommand.UNREACHABLE;
            }
            (result.exitCode() == 0 ? spec.commandLine().getOut() : spec.commandLine().getErr()).println(result.json());
            return result.exitCode();
        } catch (IOException e) {
            spec.commandLine().getErr().println("tcpferry " + verb() + ": cannot reach the daemon at " + path + ": "
                    + e.getMessage());
            return TcpferryCommand.UNREACHABLE;
        }
    }

    /** {@code tcpferry handoff DOMAIN}. */
    @Command(name = "handoff", mixinStandardHelpOptions = true,
            description = "Order DOMAIN's agent to hand all its connections to this host (do it before suspending or "
                    + "saving the guest); returns when the agent has sent them all.")
    static final class Handoff extends OrderCommand {
        @Override
        String verb() {
            return "handoff";
        }
    }

    /** {@code tcpferry reclaim DOMAIN}. */
    @Command(name = "reclaim", mixinStandardHelpOptions = true,
            description = "Order DOMAIN's agent to take back every connection this host holds for it (once the guest "
                    + "runs again); returns when the agent has confirmed or aborted each.")
    static final class Reclaim extends OrderCommand {
        @Override
        String verb() {
            return "reclaim";
        }
    }
}
