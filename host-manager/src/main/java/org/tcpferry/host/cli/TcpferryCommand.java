package org.tcpferry.host.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code tcpferry}: the host manager daemon and the commands that talk to it.
 *
 * <p>Exit codes (the same for every subcommand): 0 success; 1 the daemon could not be reached or
 * answered with an error; 2 wrong usage; 3 the configuration is invalid; 4 the daemon failed to
 * start or stopped with an error; 5 a libvirt operation failed; 6 asked for something not built
 * yet (migrate --hold-on target|HOST).
 */
@Command(name = "tcpferry", mixinStandardHelpOptions = true, versionProvider = TcpferryCommand.Version.class,
        description = "Keeps a VM's TCP connections alive while the VM is suspended or migrating.",
        subcommands = {HostdCommand.class, StatusCommand.class, OrderCommand.Handoff.class, OrderCommand.Reclaim.class,
            SaveCommand.class, RestoreCommand.class, MigrateCommand.class, SetupDomainCommand.class,
            InstallHooksCommand.class, CompletionCommand.class, FdKeeperCommand.class, CommandLine.HelpCommand.class},
        footerHeading = "%nExamples:%n",
        footer = {
            "  tcpferry hostd --config /etc/tcpferry/host.yaml   run the host manager",
            "  tcpferry status                                   held connections, as a table",
            "  tcpferry status --json --socket /run/tcpferry/control.sock",
            "  tcpferry handoff web1 && virsh suspend web1        hold web1's connections, then pause it",
            "  virsh resume web1 && tcpferry reclaim web1         give them back once it runs",
            "  tcpferry save web1 /srv/web1.sav; tcpferry restore /srv/web1.sav",
            "  tcpferry migrate web1 qemu+ssh://hostb/system",
            "  tcpferry setup-domain web1                        add the agent's channel (once)",
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:success",
            "1:the daemon could not be reached or answered with an error",
            "2:wrong usage",
            "3:invalid configuration",
            "4:the daemon failed to start or stopped with an error",
            "5:a libvirt operation failed (the message says who holds the connections now)",
            "6:not built yet (migrate --hold-on target or HOST needs the host-to-host relay)",
        })
public final class TcpferryCommand {
    public static final int OK = 0;
    public static final int UNREACHABLE = 1;
    public static final int USAGE = 2;
    public static final int BAD_CONFIG = 3;
    public static final int DAEMON_FAILED = 4;
    public static final int LIBVIRT_FAILED = 5;
    public static final int NOT_SUPPORTED = 6;

    /** Runs the command line and returns its exit code, without exiting (tests call this). */
    public static int run(String... args) {
        return run(null, null, args);
    }

    /** As {@link #run(String...)} with stdout and stderr redirected (null: the process's own). */
    public static int run(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        CommandLine line = new CommandLine(new TcpferryCommand());
        if (out != null) {
            line.setOut(out);
        }
        if (err != null) {
            line.setErr(err);
        }
        line.setExitCodeExceptionMapper(e -> USAGE);
        line.setParameterExceptionHandler((e, a) -> {
            e.getCommandLine().getErr().println(e.getMessage());
            e.getCommandLine().usage(e.getCommandLine().getErr());
            return USAGE;
        });
        return line.execute(args);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** The version from the jar manifest, or "development" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = TcpferryCommand.class.getPackage().getImplementationVersion();
            return new String[] {"tcpferry " + (version == null ? "0.1.0-SNAPSHOT (development)" : version)};
        }
    }
}
