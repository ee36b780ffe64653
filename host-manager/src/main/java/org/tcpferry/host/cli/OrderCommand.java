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

    /** Extra arguments of the control verb (the handoff's selection); none by default. */
    Map<String, String> selection() {
        return Map.of();
    }

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
            Map<String, String> args = new java.util.LinkedHashMap<>();
            args.put("domain", domain);
            args.putAll(selection());
            Message reply = client.ask(new ControlCommand(verb(), args));
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
            description = "Order DOMAIN's agent to hand its connections to this host (do it before suspending or "
                    + "saving the guest): all of them, or those matching every selection option given (a list option "
                    + "matches any of its values). Returns when the agent has sent them all.",
            footerHeading = "%nExamples:%n",
            footer = {"  tcpferry handoff web1",
                "  tcpferry handoff --local-port 443 --local-port 8000-8100 --process nginx web1"})
    static final class Handoff extends OrderCommand {
        @picocli.CommandLine.Option(names = "--local-port", paramLabel = "PORT[-PORT]", split = ",",
                description = "the guest's port of the connection")
        java.util.List<String> localPorts = java.util.List.of();

        @picocli.CommandLine.Option(names = "--remote-port", paramLabel = "PORT[-PORT]", split = ",",
                description = "the peer's port")
        java.util.List<String> remotePorts = java.util.List.of();

        @picocli.CommandLine.Option(names = "--process", paramLabel = "NAME", split = ",",
                description = "name (comm) of a process owning the socket")
        java.util.List<String> processes = java.util.List.of();

        @picocli.CommandLine.Option(names = "--cgroup", paramLabel = "PATH", split = ",",
                description = "cgroup v2 path of an owning process")
        java.util.List<String> cgroups = java.util.List.of();

        @picocli.CommandLine.Option(names = "--uid", paramLabel = "UID", split = ",", description = "the socket owner's uid")
        java.util.List<Integer> uids = java.util.List.of();

        @Override
        String verb() {
            return "handoff";
        }

        @Override
        Map<String, String> selection() {
            Map<String, String> args = new java.util.LinkedHashMap<>();
            put(args, "localPorts", localPorts);
            put(args, "remotePorts", remotePorts);
            put(args, "processNames", processes);
            put(args, "cgroups", cgroups);
            put(args, "uids", uids);
            return args;
        }

        private static void put(Map<String, String> args, String name, java.util.List<?> values) {
            if (!values.isEmpty()) {
                args.put(name, values.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(",")));
            }
        }
    }

    /** {@code tcpferry reclaim DOMAIN}. */
    @Command(name = "reclaim", mixinStandardHelpOptions = true,
            description = "Order DOMAIN's agent to take back every connection this host holds for it (once the guest "
                    + "runs again); returns when the agent has confirmed or aborted each.",
            footerHeading = "%nExample:%n",
            footer = {"  virsh resume web1 && tcpferry reclaim web1"})
    static final class Reclaim extends OrderCommand {
        @Override
        String verb() {
            return "reclaim";
        }
    }
}
