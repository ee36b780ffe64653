package org.tcpferry.host.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.tcpferry.host.libvirt.LibvirtFailure;
import org.tcpferry.host.libvirt.LibvirtSession;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What the commands that combine the daemon and libvirt share ({@code save}, {@code restore},
 * {@code migrate}): the control socket, {@code --connect}, {@code --json}, progress on stderr, and
 * failures that say what failed and what is left holding the connections.
 */
abstract class Workflow implements Callable<Integer> {
    static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Mixin
    SocketOption socket;

    @Mixin
    LibvirtOption libvirt;

    @Option(names = "--json", description = "print the result as one JSON document on stdout")
    boolean json;

    ProgressPrinter progress;
    /** Who holds the connections at this point of the command; steps update it, failures report it. */
    String holding = "unchanged: nothing was handed off";
    /** The result document, filled in step by step; printed on success and on failure. */
    ObjectNode result = JSON.createObjectNode();

    abstract String name();

    /** The command's steps; returns the exit code. */
    abstract int run(Path control) throws IOException;

    @Override
    public final Integer call() {
        progress = new ProgressPrinter(name(), spec.commandLine().getErr());
        Path control;
        try {
            control = socket.path();
        } catch (IllegalArgumentException e) {
            return fail(TcpferryCommand.BAD_CONFIG, e.getMessage(), "nothing was changed");
        }
        try {
            return run(control);
        } catch (LibvirtFailure e) {
            return fail(TcpferryCommand.LIBVIRT_FAILED, e.getMessage(), holding);
        } catch (IOException | RuntimeException e) {
            return fail(TcpferryCommand.UNREACHABLE, String.valueOf(e.getMessage()), holding);
        }
    }

    LibvirtSession openLibvirt() throws IOException {
        progress.phase("libvirt", "connecting to " + libvirt.uri);
        return LibvirtSession.open(libvirt.uri);
    }

    /** Orders {@code verb} from the daemon at {@code control}, with progress. */
    DaemonOrder.Result order(Path control, String verb, String domain) throws IOException {
        return order(control, verb, Map.of("domain", domain));
    }

    /** {@code verb} with {@code args} (which name the domain) on the host manager at {@code control}. */
    DaemonOrder.Result order(Path control, String verb, Map<String, String> args) throws IOException {
        String domain = args.get("domain");
        progress.phase(verb, "asking the host manager at " + control + " to " + verb + " " + domain);
        DaemonOrder.Result answer;
        try {
            answer = DaemonOrder.run(control, verb, args, progress);
        } catch (IOException e) {
            throw new IOException(verb + ": cannot reach the host manager at " + control + ": " + e.getMessage(), e);
        }
        result.set(verb, answer.json());
        if (answer.exitCode() == 0) {
            String holder = answer.json().path("holder").asText("");
            holding = !verb.equals("handoff") ? "given back to " + domain + " (" + answer.held() + " still held at "
                    + control + ")"
                    : holder.isEmpty() ? "the host manager at " + control + " holds " + answer.held() + " of " + domain
                            + "'s connections"
                    : "host " + holder + " holds " + answer.json().path("handedOff").asInt() + " of " + domain
                            + "'s connections";
        }
        return answer;
    }

    /** Prints the result (JSON or one line) and returns 0. */
    int succeed(String summary) {
        result.put("ok", true);
        result.put("elapsedMs", progress.elapsedMillis());
        spec.commandLine().getOut().println(json ? result.toString() : summary);
        spec.commandLine().getOut().flush();
        return TcpferryCommand.OK;
    }

    /** Prints what failed and who holds the connections now, returns {@code exit}. */
    int fail(int exit, String what, String holding) {
        result.put("ok", false);
        result.put("error", what);
        result.put("holding", holding);
        result.put("exitCode", exit);
        if (json) {
            spec.commandLine().getOut().println(result.toString());
            spec.commandLine().getOut().flush();
        }
        spec.commandLine().getErr().println("tcpferry " + name() + ": failed: " + what);
        spec.commandLine().getErr().println("tcpferry " + name() + ": connections: " + holding);
        spec.commandLine().getErr().flush();
        return exit;
    }
}
