package org.tcpferry.host.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tcpferry install-hooks}: runs the hook installer shipped with tcpferry (libvirt-hooks/install.sh). */
@Command(name = "install-hooks", mixinStandardHelpOptions = true,
        description = {"Install the libvirt hook that tells the host manager about domain starts, restores and "
                + "migrations (runs libvirt-hooks/install.sh; see docs/libvirt.md). Restart or SIGHUP libvirtd afterwards."},
        footerHeading = "%nExamples:%n",
        footer = {"  tcpferry install-hooks && kill -HUP $(pidof libvirtd)",
            "  tcpferry install-hooks --prefix /tmp/root --libxl",
            "  tcpferry install-hooks --uninstall --purge"})
final class InstallHooksCommand implements Callable<Integer> {
    /** Where the packages install the hooks; a checkout's bin/tcpferry sets tcpferry.hooks to its own. */
    static final String DEFAULT_HOOKS_DIR = "/opt/tcpferry/libvirt-hooks";

    @Spec
    CommandSpec spec;

    @Option(names = "--prefix", paramLabel = "DIR", description = "install under DIR instead of /")
    Path prefix;

    @Option(names = "--libxl", description = "also install the hook for the Xen (libxl) driver")
    boolean libxl;

    @Option(names = "--uninstall", description = "remove the hooks (keeps /etc/tcpferry/hook.conf)")
    boolean uninstall;

    @Option(names = "--purge", description = "with --uninstall: remove hook.conf too")
    boolean purge;

    @Option(names = "--hooks-dir", paramLabel = "DIR", description = "where install.sh and the hooks are "
            + "(default: the tcpferry.hooks system property, else " + DEFAULT_HOOKS_DIR + ")")
    Path hooksDir;

    @Override
    public Integer call() {
        Path dir = hooksDir != null ? hooksDir : Path.of(System.getProperty("tcpferry.hooks", DEFAULT_HOOKS_DIR));
        Path script = dir.resolve("install.sh");
        if (!Files.isRegularFile(script)) {
            spec.commandLine().getErr().println("tcpferry install-hooks: no installer at " + script
                    + " (give --hooks-dir, or install the tcpferry-host package)");
            return TcpferryCommand.BAD_CONFIG;
        }
        List<String> command = new ArrayList<>(List.of("/bin/sh", script.toString()));
        if (prefix != null) {
            command.addAll(List.of("--prefix", prefix.toString()));
        }
        if (libxl) {
            command.add("--libxl");
        }
        if (uninstall) {
            command.add("--uninstall");
        }
        if (purge) {
            command.add("--purge");
        }
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            process.getOutputStream().close();
            spec.commandLine().getOut().print(new String(process.getInputStream().readAllBytes()));
            spec.commandLine().getOut().flush();
            int exit = process.waitFor();
            if (exit != 0) {
                spec.commandLine().getErr().println("tcpferry install-hooks: " + script + " exited " + exit);
                return TcpferryCommand.UNREACHABLE;
            }
            return TcpferryCommand.OK;
        } catch (IOException e) {
            spec.commandLine().getErr().println("tcpferry install-hooks: cannot run " + script + ": " + e.getMessage());
            return TcpferryCommand.UNREACHABLE;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return TcpferryCommand.UNREACHABLE;
        }
    }
}
