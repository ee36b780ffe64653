package org.tcpferry.tests.hooks;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tcpferry.protocol.ControlCommand;
import org.tcpferry.protocol.ErrorCode;
import org.tcpferry.protocol.ErrorReply;
import org.tcpferry.protocol.Hello;
import org.tcpferry.protocol.Progress;
import org.tcpferry.tests.hooks.FakeControlServer.Answer;
import org.tcpferry.tests.hooks.FakeControlServer.Received;

/**
 * The hook against a control server that speaks the protocol: what it sends for each libvirt
 * call, and that no answer of the host manager (error, failure, lateness, garbage) ever turns
 * into a failed libvirt operation.
 */
class HookWithHostManagerTest {
    private static final String OK_JSON = "{\"domain\":\"web-1&co\",\"action\":\"noted\"}";

    @TempDir
    Path dir;

    static Stream<LibvirtCall> calls() {
        return LibvirtCall.QEMU.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("calls")
    void sendsHelloAndTheCommandForTheOperationsTcpferryUses(LibvirtCall call) throws Exception {
        Path socket = dir.resolve("control.sock");
        try (FakeControlServer server = FakeControlServer.start(socket, Answer.reply(0, OK_JSON))) {
            HookRun run = new HookScript(HookScript.QEMU, dir, socket)
                    .run(DomainXml.NAME, call.op(), call.subop(), call.extra(), DomainXml.running());

            assertThat(run.exitCode()).isZero();
            assertThat(run.stdout()).isEqualTo(call.readsXml() ? DomainXml.running().getBytes(UTF_8) : new byte[0]);
            assertThat(run.log().lines()).hasSize(1);
            if (!call.sent()) {
                assertThat(server.drain()).isEmpty();
                assertThat(run.log()).contains("outcome=ignored");
                return;
            }
            Received hello = server.next();
            assertThat(hello.requestId()).isEqualTo(1);
            assertThat(hello.message()).isEqualTo(new Hello(Hello.CONTROL, "libvirt-hook", ""));
            Received command = server.next();
            assertThat(command.requestId()).as("odd id of the connecting side").isEqualTo(3);
            ControlCommand sent = (ControlCommand) command.message();
            assertThat(sent.verb()).isEqualTo("libvirt-hook");
            assertThat(sent.args()).containsExactly(
                    entry("domain", DomainXml.NAME), entry("uuid", DomainXml.UUID), entry("op", call.op()),
                    entry("subop", call.subop()), entry("extra", call.extra()));
            assertThat(run.log()).contains("level=info", "outcome=delivered", "exit=0",
                    "reply=\"{\\\"domain\\\":\\\"web-1&co\\\",\\\"action\\\":\\\"noted\\\"}\"");
            assertThat(server.drain()).isEmpty();
        }
    }

    @Test
    void libxlHookSendsTheSameCommandAndLogsItsDriver() throws Exception {
        Path socket = dir.resolve("control.sock");
        try (FakeControlServer server = FakeControlServer.start(socket, Answer.reply(0, "{}"))) {
            HookRun run = new HookScript(HookScript.LIBXL, dir, socket).run("migrate", "begin", DomainXml.running());

            assertThat(run.exitCode()).isZero();
            assertThat(run.stdoutText()).isEqualTo(DomainXml.running());
            assertThat(run.log()).contains("driver=libxl", "outcome=delivered");
            assertThat(server.next().message()).isInstanceOf(Hello.class);
            assertThat(((ControlCommand) server.next().message()).args()).containsEntry("op", "migrate");
        }
    }

    @Test
    void progressBeforeTheReplyIsSkipped() throws Exception {
        Path socket = dir.resolve("control.sock");
        Answer progressThenReply = (request, out) -> {
            FakeControlServer.send(out, request.requestId(), new Progress("steering", 1, 2, 0));
            FakeControlServer.send(out, 7, new Progress("another request", 0, 0, 0));
            Answer.reply(0, "{}").answer(request, out);
        };
        try (FakeControlServer server = FakeControlServer.start(socket, progressThenReply)) {
            HookRun run = new HookScript(HookScript.QEMU, dir, socket).run("prepare", "begin", DomainXml.running());

            assertThat(run.exitCode()).isZero();
            assertThat(run.log()).contains("outcome=delivered");
        }
    }

    @Test
    void errorReplyIsLoggedAsWarning() throws Exception {
        Path socket = dir.resolve("control.sock");
        Answer unknown = Answer.with(new ErrorReply(ErrorCode.UNKNOWN_DOMAIN, "no domain web-1&co on this host"));
        try (FakeControlServer server = FakeControlServer.start(socket, unknown)) {
            HookRun run = new HookScript(HookScript.QEMU, dir, socket).run("restore", "begin", DomainXml.running());

            assertThat(run.exitCode()).isZero();
            assertThat(run.stdoutText()).isEqualTo(DomainXml.running());
            assertThat(run.log()).contains("level=warn", "outcome=error_reply", "code=UNKNOWN_DOMAIN",
                    "detail=\"no domain web-1&co on this host\"");
        }
    }

    @Test
    void failedCommandIsLoggedWithItsExitCode() throws Exception {
        Path socket = dir.resolve("control.sock");
        try (FakeControlServer server = FakeControlServer.start(socket, Answer.reply(-3, "{\"error\":\"spool full\"}"))) {
            HookRun run = new HookScript(HookScript.QEMU, dir, socket).run("release", "end", DomainXml.running());

            assertThat(run.exitCode()).isZero();
            assertThat(run.log()).contains("level=warn", "outcome=failed", "exit=-3", "spool full");
        }
    }

    @Test
    void refusedHelloIsLoggedAndNoCommandFollows() throws Exception {
        Path socket = dir.resolve("control.sock");
        Answer refuse = Answer.with(new ErrorReply(ErrorCode.REFUSED, "control role not served"));
        try (FakeControlServer server = FakeControlServer.start(socket, refuse, Answer.reply(0, "{}"))) {
            HookRun run = new HookScript(HookScript.QEMU, dir, socket).run("started", "begin", DomainXml.running());

            assertThat(run.exitCode()).isZero();
            assertThat(run.log()).contains("outcome=refused", "code=REFUSED", "control role not served");
            assertThat(server.next().message()).isInstanceOf(Hello.class);
            assertThat(server.next()).as("no command after a refused Hello").isNull();
        }
    }

    @Test
    void replyAfterTheTimeoutIsAbandoned() throws Exception {
        Path socket = dir.resolve("control.sock");
        try (FakeControlServer server = FakeControlServer.start(socket, Answer.after(1500, Answer.reply(0, "{}")))) {
            HookRun run = new HookScript(HookScript.QEMU, dir, socket).run("migrate", "begin", DomainXml.running());

            assertThat(run.exitCode()).isZero();
            assertThat(run.stdoutText()).isEqualTo(DomainXml.running());
            assertThat(run.log()).contains("level=warn", "outcome=timeout", "no reply within 300 ms", "waited_ms=");
            assertThat(run.elapsed()).isBetween(Duration.ofMillis(280), Duration.ofMillis(900));
        }
    }

    @Test
    void timeoutIsConfigurable() throws Exception {
        Path socket = dir.resolve("control.sock");
        try (FakeControlServer server = FakeControlServer.start(socket, Answer.after(400, Answer.reply(0, "{}")))) {
            HookRun run = new HookScript(HookScript.QEMU, dir, socket)
                    .env("TCPFERRY_HOOK_TIMEOUT_MS", "1500")
                    .run("prepare", "begin", DomainXml.running());

            assertThat(run.exitCode()).isZero();
            assertThat(run.log()).contains("outcome=delivered");
            assertThat(run.elapsed()).isBetween(Duration.ofMillis(380), Duration.ofMillis(1400));
        }
    }

    static List<byte[]> garbage() {
        return List.of(
                "HTTP/1.1 400 Bad Request\r\n\r\n".getBytes(UTF_8),
                // A well-formed header of protocol version 2.
                new byte[] {'T', 'F', 2, 0x33, 0, 0, 0, 3, 0, 0, 0, 0},
                // A ControlReply declaring 2 GiB of payload.
                new byte[] {'T', 'F', 1, 0x33, 0, 0, 0, 3, (byte) 0x80, 0, 0, 0},
                // A ControlReply whose json length runs past the payload.
                new byte[] {'T', 'F', 1, 0x33, 0, 0, 0, 3, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 9},
                // Half a header, then nothing more: the hook times out.
                new byte[] {'T', 'F', 1});
    }

    @ParameterizedTest
    @MethodSource("garbage")
    void garbageFromTheServerStillExitsZero(byte[] junk) throws Exception {
        Path socket = dir.resolve("control.sock");
        try (FakeControlServer server = FakeControlServer.start(socket, Answer.raw(junk))) {
            HookRun run = new HookScript(HookScript.QEMU, dir, socket).run("migrate", "begin", DomainXml.running());

            assertThat(run.exitCode()).isZero();
            assertThat(run.stdoutText()).isEqualTo(DomainXml.running());
            assertThat(run.log()).containsAnyOf("outcome=garbage", "outcome=timeout").contains("level=warn");
            assertThat(run.elapsed()).isLessThan(Duration.ofMillis(900));
        }
    }

    @Test
    void garbageInsteadOfHelloReplyStillExitsZero() throws Exception {
        Path socket = dir.resolve("control.sock");
        byte[] junk = "SSH-2.0-OpenSSH_9.2\r\n".getBytes(UTF_8);
        try (FakeControlServer server = FakeControlServer.start(socket, Answer.raw(junk), Answer.reply(0, "{}"))) {
            HookRun run = new HookScript(HookScript.QEMU, dir, socket).run("stopped", "end", DomainXml.running());

            assertThat(run.exitCode()).isZero();
            assertThat(run.log()).contains("outcome=garbage", "bad magic 5353");
        }
    }

    private static java.util.Map.Entry<String, String> entry(String key, String value) {
        return java.util.Map.entry(key, value);
    }
}
