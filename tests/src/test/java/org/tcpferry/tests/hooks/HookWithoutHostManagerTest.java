package org.tcpferry.tests.hooks;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * With tcpferry down the hook must not get in libvirt's way: exit 0 at once, say so in the log,
 * and still hand back the domain XML where libvirt reads it.
 */
class HookWithoutHostManagerTest {
    private static final Duration FAST = Duration.ofMillis(700);

    @TempDir
    Path dir;

    static Stream<LibvirtCall> calls() {
        return LibvirtCall.QEMU.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("calls")
    void noSocketFileExitsZeroAtOnce(LibvirtCall call) throws Exception {
        HookScript hook = new HookScript(HookScript.QEMU, dir, dir.resolve("control.sock"));

        HookRun run = hook.run(DomainXml.NAME, call.op(), call.subop(), call.extra(), DomainXml.running());

        assertLibvirtUnaffected(call, run);
        if (call.sent()) {
            assertThat(run.log()).contains("outcome=unreachable", "No such file or directory",
                    "domain=web-1&co ", "uuid=" + DomainXml.UUID, "op=" + call.op());
        } else {
            assertThat(run.log()).contains("outcome=ignored", "op=" + call.op());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("calls")
    void staleSocketFileExitsZeroAtOnce(LibvirtCall call) throws Exception {
        Path socket = dir.resolve("control.sock");
        // A socket file left by a daemon that died: bound once, nobody listening any more.
        try (ServerSocketChannel gone = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            gone.bind(UnixDomainSocketAddress.of(socket));
        }
        assertThat(socket).exists();
        HookScript hook = new HookScript(HookScript.QEMU, dir, socket);

        HookRun run = hook.run(DomainXml.NAME, call.op(), call.subop(), call.extra(), DomainXml.running());

        assertLibvirtUnaffected(call, run);
        if (call.sent()) {
            assertThat(run.log()).contains("level=warn", "outcome=unreachable", "Connection refused");
        }
    }

    @Test
    void socketThatNeverAcceptsTimesOutWithinTheBudget() throws Exception {
        Path socket = dir.resolve("control.sock");
        // A hung daemon: listening (the kernel completes the connection) but never reading.
        try (ServerSocketChannel hung = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            hung.bind(UnixDomainSocketAddress.of(socket));
            HookScript hook = new HookScript(HookScript.QEMU, dir, socket);

            HookRun run = hook.run("migrate", "begin", DomainXml.running());

            assertThat(run.exitCode()).isZero();
            assertThat(run.stdoutText()).isEqualTo(DomainXml.running());
            assertThat(run.log()).contains("outcome=timeout", "no reply within 300 ms");
            assertThat(run.elapsed()).isBetween(Duration.ofMillis(280), Duration.ofMillis(900));
        }
    }

    @Test
    void stdinThatNeverEndsIsCutOffByTheAlarm() throws Exception {
        HookScript hook = new HookScript(HookScript.QEMU, dir, dir.resolve("control.sock"));

        HookRun run = hook.run(DomainXml.NAME, "prepare", "begin", "-", DomainXml.running(), false);

        assertThat(run.exitCode()).isZero();
        assertThat(run.log()).contains("outcome=hook_failed", "gave up: blocked past the time limit");
        // The alarm is the configured timeout (300 ms) rounded down to whole seconds, plus 2 s.
        assertThat(run.elapsed()).isBetween(Duration.ofMillis(1900), Duration.ofMillis(3000));
    }

    @Test
    void unwritableLogFallsBackToStderr() throws Exception {
        HookScript hook = new HookScript(HookScript.QEMU, dir, dir.resolve("control.sock"))
                .env("TCPFERRY_HOOK_LOG", dir.resolve("no-such-dir").resolve("hook.log").toString());

        HookRun run = hook.run("stopped", "end", DomainXml.running());

        assertThat(run.exitCode()).isZero();
        assertThat(run.stdout()).isEmpty();
        assertThat(run.stderr()).contains("tcpferry-hook", "outcome=unreachable", "op=stopped").endsWith("\n");
        assertThat(run.stderr().lines()).hasSize(1);
    }

    @Test
    void configFileIsReadAndBadValuesAreReportedNotFatal() throws Exception {
        Path conf = dir.resolve("hook.conf");
        Path log = dir.resolve("from-conf.log");
        Files.writeString(conf, """
                # written by the test
                control_socket = %s
                timeout_ms = soon
                log_file = %s
                colour = blue
                """.formatted(dir.resolve("conf.sock"), log), UTF_8);
        HookScript hook = new HookScript(HookScript.QEMU, dir, dir.resolve("unused.sock"))
                .env("TCPFERRY_HOOK_CONF", conf.toString())
                .env("TCPFERRY_CONTROL_SOCKET", null)
                .env("TCPFERRY_HOOK_LOG", null);

        HookRun run = hook.run("started", "begin", DomainXml.running());

        assertThat(run.exitCode()).isZero();
        assertThat(Files.readString(log)).contains("outcome=unreachable", "conf.sock",
                "timeout_ms 'soon' is not a positive integer, using 300", "hook.conf:5: not understood");
    }

    @Test
    void emptyStdinAndMissingArgumentsStillExitZero() throws Exception {
        HookScript hook = new HookScript(HookScript.QEMU, dir, dir.resolve("control.sock"));

        HookRun run = hook.run("lonely", "restore", "begin", "-", "");

        assertThat(run.exitCode()).isZero();
        assertThat(run.stdout()).isEmpty();
        assertThat(run.log()).contains("domain=lonely", "uuid=\"\"", "outcome=unreachable");
    }

    private static void assertLibvirtUnaffected(LibvirtCall call, HookRun run) throws IOException {
        assertThat(run.exitCode()).as("exit status").isZero();
        assertThat(run.elapsed()).as("time libvirt waits").isLessThan(FAST);
        if (call.readsXml()) {
            assertThat(run.stdout()).as("replacement XML").isEqualTo(DomainXml.running().getBytes(UTF_8));
        } else {
            assertThat(run.stdout()).as("stdout").isEmpty();
        }
        assertThat(run.log().lines()).as("log lines").hasSize(1);
    }
}
