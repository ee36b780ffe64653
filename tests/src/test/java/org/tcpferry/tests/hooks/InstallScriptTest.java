package org.tcpferry.tests.hooks;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** install.sh into a temporary prefix: what it creates, what it keeps, and what --uninstall removes. */
class InstallScriptTest {
    @TempDir
    Path prefix;

    private Path qemuHook() {
        return prefix.resolve("etc/libvirt/hooks/qemu.d/50-tcpferry");
    }

    private Path libxlHook() {
        return prefix.resolve("etc/libvirt/hooks/libxl.d/50-tcpferry");
    }

    private Path conf() {
        return prefix.resolve("etc/tcpferry/hook.conf");
    }

    @Test
    void installsTheQemuHookConfigAndLogDirectory() throws Exception {
        Result result = install("--prefix", prefix.toString());

        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(qemuHook()).hasSameBinaryContentAs(HookScript.QEMU);
        assertThat(permissions(qemuHook())).isEqualTo("rwxr-xr-x");
        assertThat(libxlHook()).as("no libxl.d, no Xen hook").doesNotExist();
        assertThat(conf()).hasSameTextualContentAs(HookScript.HOOKS_DIR.resolve("hook.conf"));
        assertThat(permissions(conf())).isEqualTo("rw-r--r--");
        assertThat(prefix.resolve("var/log/tcpferry")).isDirectory();
        assertThat(result.output()).contains("restart libvirtd");
        assertThat(Files.list(qemuHook().getParent())).as("no temporary file left").hasSize(1);
    }

    @Test
    void installsTheLibxlHookWhenLibxlDirectoryExists() throws Exception {
        Files.createDirectories(libxlHook().getParent());

        Result result = install("--prefix=" + prefix);

        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(libxlHook()).hasSameBinaryContentAs(HookScript.QEMU);
        assertThat(Files.isExecutable(libxlHook())).isTrue();
    }

    @Test
    void installedHooksRunAndNameTheirDriver() throws Exception {
        assertThat(install("--prefix", prefix.toString(), "--libxl").exitCode()).isZero();
        Path work = Files.createDirectories(prefix.resolve("work"));

        HookRun qemu = new HookScript(qemuHook(), work, work.resolve("none.sock")).run("restore", "begin", DomainXml.running());
        HookRun libxl = new HookScript(libxlHook(), work, work.resolve("none.sock")).run("prepare", "begin", DomainXml.running());

        assertThat(qemu.exitCode()).isZero();
        assertThat(qemu.stdoutText()).isEqualTo(DomainXml.running());
        assertThat(qemu.log()).contains("driver=qemu");
        assertThat(libxl.exitCode()).isZero();
        assertThat(libxl.log()).contains("driver=libxl");
    }

    @Test
    void reinstallKeepsAnEditedConfigAndReplacesTheHook() throws Exception {
        Files.createDirectories(conf().getParent());
        Files.writeString(conf(), "timeout_ms = 150\n", UTF_8);
        Files.createDirectories(qemuHook().getParent());
        Files.writeString(qemuHook(), "#!/bin/sh\n# tcpferry libvirt hook, an older version\nexit 0\n", UTF_8);

        Result result = install("--prefix", prefix.toString());

        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(conf()).hasContent("timeout_ms = 150");
        assertThat(result.output()).contains("kept " + conf());
        assertThat(qemuHook()).hasSameBinaryContentAs(HookScript.QEMU);
    }

    @Test
    void refusesToOverwriteSomeoneElsesHook() throws Exception {
        Files.createDirectories(qemuHook().getParent());
        Files.writeString(qemuHook(), "#!/bin/sh\necho another hook\n", UTF_8);

        Result result = install("--prefix", prefix.toString());

        assertThat(result.exitCode()).isNotZero();
        assertThat(result.output()).contains("not a tcpferry hook");
        assertThat(qemuHook()).hasContent("#!/bin/sh\necho another hook");
    }

    @Test
    void uninstallRemovesTheHooksAndKeepsTheConfigUnlessPurged() throws Exception {
        assertThat(install("--prefix", prefix.toString(), "--libxl").exitCode()).isZero();
        Path otherHook = Files.writeString(qemuHook().resolveSibling("40-other"), "#!/bin/sh\n", UTF_8);

        Result uninstall = install("--prefix", prefix.toString(), "--uninstall");

        assertThat(uninstall.exitCode()).as(uninstall.output()).isZero();
        assertThat(qemuHook()).doesNotExist();
        assertThat(libxlHook()).doesNotExist();
        assertThat(otherHook).exists();
        assertThat(conf()).exists();

        Result purge = install("--prefix", prefix.toString(), "--uninstall", "--purge");

        assertThat(purge.exitCode()).as(purge.output()).isZero();
        assertThat(conf()).doesNotExist();
    }

    @Test
    void rejectsUnknownArguments() throws Exception {
        Result result = install("--prefix", prefix.toString(), "--frobnicate");

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.output()).contains("unknown argument: --frobnicate", "usage:");
        assertThat(qemuHook()).doesNotExist();
    }

    private record Result(int exitCode, String output) {}

    private static Result install(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("sh", HookScript.INSTALL.toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), UTF_8);
        assertThat(process.waitFor(10, TimeUnit.SECONDS)).as("install.sh finished").isTrue();
        return new Result(process.exitValue(), output);
    }

    private static String permissions(Path path) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
    }
}
