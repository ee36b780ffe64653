package org.tcpferry.host.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Parsing, help and exit codes of the tcpferry CLI, without a daemon or libvirt. */
class CliParsingTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return TcpferryCommand.run(new PrintWriter(out), new PrintWriter(err), args);
    }

    @Test
    void everyCommandsHelpHasAnExample() {
        for (String command : new String[] {"save", "restore", "migrate", "handoff", "reclaim", "setup-domain",
            "install-hooks", "completion"}) {
            StringWriter help = new StringWriter();
            assertThat(TcpferryCommand.run(new PrintWriter(help), new PrintWriter(err), command, "--help")).isZero();
            assertThat(help.toString()).as(command).contains("Usage: tcpferry " + command).contains("Example")
                    .contains("tcpferry " + command);
        }
    }

    @Test
    void rootHelpListsExitCodes() {
        assertThat(run("--help")).isZero();
        assertThat(out.toString()).contains("Exit codes:").contains("5   a libvirt operation failed")
                .contains("6   not built yet").contains("migrate").contains("setup-domain");
    }

    @Test
    void missingArgumentIsUsageError() {
        assertThat(run("save", "web1")).isEqualTo(TcpferryCommand.USAGE);
        assertThat(err.toString()).contains("Missing required parameter").contains("FILE");
    }

    @Test
    void migrateModesAreExclusive() {
        assertThat(run("migrate", "--live", "--offline", "web1", "qemu+ssh://b/system")).isEqualTo(TcpferryCommand.USAGE);
        assertThat(err.toString()).contains("mutually exclusive");
    }

    @Test
    void holdOnTargetNeedsAHostInTheDestinationUri() {
        assertThat(run("migrate", "--hold-on", "target", "--socket", "/nonexistent/control.sock", "--connect",
                "test:///nonexistent", "web1", "qemu:///system")).isEqualTo(TcpferryCommand.USAGE);
        assertThat(err.toString()).contains("needs a host in DEST-URI").contains("nothing was changed");
    }

    @Test
    void holdOnTargetNamesTheDestinationHost() {
        MigrateCommand command = new MigrateCommand();
        new CommandLine(command).parseArgs("--hold-on", "target", "web1", "qemu+tcp://hvb.example:16509/system");
        assertThat(command.destinationHost()).isEqualTo("hvb.example");
    }

    @Test
    void migrateFlagsFollowTheMode() {
        MigrateCommand command = new MigrateCommand();
        new CommandLine(command).parseArgs("--suspend", "web1", "qemu:///system");
        assertThat(command.flags()).isEqualTo(org.libvirt.Domain.MigrateFlags.LIVE | org.libvirt.Domain.MigrateFlags.PAUSED);
        command = new MigrateCommand();
        new CommandLine(command).parseArgs("--offline", "web1", "qemu:///system");
        assertThat(command.flags() & org.libvirt.Domain.MigrateFlags.OFFLINE).isNotZero();
        command = new MigrateCommand();
        new CommandLine(command).parseArgs("web1", "qemu:///system");
        assertThat(command.flags()).isEqualTo(org.libvirt.Domain.MigrateFlags.LIVE);
    }

    @Test
    void connectDefaultsToQemuSystem() {
        SaveCommand command = new SaveCommand();
        new CommandLine(command).parseArgs("web1", "/tmp/x.sav");
        assertThat(command.libvirt.uri).isEqualTo("qemu:///system");
    }

    @Test
    void handoffSelectionBecomesControlArguments() {
        OrderCommand.Handoff command = new OrderCommand.Handoff();
        new CommandLine(command).parseArgs("--local-port", "443,8000-8100", "--process", "nginx", "--uid", "33", "web1");
        assertThat(command.selection()).containsEntry("localPorts", "443,8000-8100").containsEntry("processNames", "nginx")
                .containsEntry("uids", "33").doesNotContainKey("remotePorts");
    }

    @Test
    void completionScriptCoversTheCommands() {
        assertThat(run("completion", "bash")).isZero();
        assertThat(out.toString()).contains("complete -F").contains("setup-domain").contains("--hold-on");
        assertThat(run("completion", "fish")).isEqualTo(TcpferryCommand.USAGE);
    }

    @Test
    void unreachableDaemonIsExitOne() {
        assertThat(run("status", "--socket", "/nonexistent/control.sock")).isEqualTo(TcpferryCommand.UNREACHABLE);
    }

    @Test
    void installHooksWithoutInstallerIsBadConfig() {
        assertThat(run("install-hooks", "--hooks-dir", "/nonexistent")).isEqualTo(TcpferryCommand.BAD_CONFIG);
        assertThat(err.toString()).contains("no installer at /nonexistent/install.sh");
    }
}
