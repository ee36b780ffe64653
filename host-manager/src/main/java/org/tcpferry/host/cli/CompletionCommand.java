package org.tcpferry.host.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code tcpferry completion bash}: a bash completion script generated from the command model. */
@Command(name = "completion", mixinStandardHelpOptions = true,
        description = "Print a shell completion script for tcpferry, generated from its commands and options.",
        footerHeading = "%nExample:%n",
        footer = {"  source <(tcpferry completion bash)",
            "  tcpferry completion bash > /etc/bash_completion.d/tcpferry"})
final class CompletionCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SHELL", description = "bash (zsh loads it too, with bashcompinit)")
    String shell;

    @Override
    public Integer call() {
        if (!shell.equals("bash")) {
            spec.commandLine().getErr().println("tcpferry completion: only bash is supported, not " + shell);
            return TcpferryCommand.USAGE;
        }
        CommandLine root = spec.commandLine().getParent();
        spec.commandLine().getOut().print(AutoComplete.bash("tcpferry", root));
        spec.commandLine().getOut().flush();
        return TcpferryCommand.OK;
    }
}
