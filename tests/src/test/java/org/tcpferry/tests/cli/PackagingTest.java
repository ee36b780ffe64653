package org.tcpferry.tests.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.tcpferry.rig.KernelTest;
import org.junit.jupiter.api.io.TempDir;

/**
 * packaging/build-debs.sh builds both packages from the jars Maven built (run after
 * {@code mvn install} of host-manager and guest-agent); their contents and control fields are
 * checked with dpkg-deb, the packaged host jars alone run the CLI, and both install with dpkg -i,
 * work and purge (in a throwaway overlay of this machine's root filesystem).
 */
class PackagingTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final String VERSION = "0.1.0~SNAPSHOT";

    @TempDir
    Path out;

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(command + "\n" + output).isZero();
        return output;
    }

    @Test
    void buildsHostAndAgentPackages() throws Exception {
        run(List.of(ROOT.resolve("packaging/build-debs.sh").toString(), "--skip-build", "--out", out.toString()));
        Path host = out.resolve("tcpferry-host_" + VERSION + "_all.deb");
        Path agent = out.resolve("tcpferry-agent_" + VERSION + "_all.deb");

        String hostFiles = run(List.of("dpkg-deb", "-c", host.toString()));
        assertThat(hostFiles).contains("./opt/tcpferry/bin/tcpferry", "./usr/bin/tcpferry -> ../../opt/tcpferry/bin/tcpferry",
                "./lib/systemd/system/tcpferry-hostd.service", "./etc/tcpferry/host.yaml",
                "./opt/tcpferry/libvirt-hooks/qemu", "./opt/tcpferry/libvirt-hooks/install.sh",
                "./usr/share/bash-completion/completions/tcpferry", "lib/host/tcpferry-host-manager-0.1.0-SNAPSHOT.jar",
                "lib/host/libvirt-0.5.4.jar", "lib/host/jna-5.19.1.jar", "root/root");
        String hostInfo = run(List.of("dpkg-deb", "-I", host.toString()));
        assertThat(hostInfo).contains("Package: tcpferry-host", "Version: " + VERSION, "Architecture: all", "libvirt0",
                "nftables", "conffiles", "postinst");

        String agentFiles = run(List.of("dpkg-deb", "-c", agent.toString()));
        assertThat(agentFiles).contains("./opt/tcpferry/bin/tcpferry-agent", "./lib/systemd/system/tcpferry-agent.service",
                "./etc/default/tcpferry-agent", "lib/agent/tcpferry-guest-agent-0.1.0-SNAPSHOT.jar")
                .doesNotContain("libvirt-0.5.4.jar");
        assertThat(run(List.of("dpkg-deb", "-I", agent.toString()))).contains("Package: tcpferry-agent");

        // The packaged jars are complete: the CLI runs from them alone.
        Path tree = Files.createDirectory(out.resolve("tree"));
        run(List.of("dpkg-deb", "-x", host.toString(), tree.toString()));
        String help = run(List.of("java", "-cp", tree.resolve("opt/tcpferry/lib/host") + "/*",
                "org.tcpferry.host.cli.TcpferryCommand", "--help"));
        assertThat(help).contains("migrate", "setup-domain", "Exit codes:");
        assertThat(Files.readString(tree.resolve("usr/share/bash-completion/completions/tcpferry"))).contains("complete -F");
    }

    /**
     * {@code dpkg -i} of both packages on this machine as a new operator would, with their
     * dependencies resolved by dpkg against what is installed, then the commands, units, config and
     * hook used, then {@code dpkg --purge}; all on overlays inside a private mount namespace, so
     * the machine's own files and package database stay as they were.
     */
    @Test
    @KernelTest
    void bothPackagesInstallWithDpkgWorkAndPurge() throws Exception {
        run(List.of(ROOT.resolve("packaging/build-debs.sh").toString(), "--skip-build", "--out", out.toString()));
        Path host = out.resolve("tcpferry-host_" + VERSION + "_all.deb");
        Path agent = out.resolve("tcpferry-agent_" + VERSION + "_all.deb");
        Path scratch = Files.createDirectory(out.resolve("overlay"));
        Path script = Path.of(PackagingTest.class.getResource("/packaging/install-in-overlay.sh").toURI());
        String output = run(List.of("unshare", "--mount", "--propagation", "private", "bash", script.toString(),
                scratch.toString(), host.toString(), agent.toString()));
        assertThat(output).contains("tcpferry-host install ok installed", "tcpferry-agent install ok installed",
                "Usage: tcpferry [-hV] [COMMAND]", "--hold-on", "Usage: tcpferry-agent",
                "PACKAGES-INSTALLED-USED-PURGED");
        assertThat(run(List.of("dpkg", "-l"))).as("the machine's own package database")
                .doesNotContain("tcpferry-host", "tcpferry-agent");
    }
}
