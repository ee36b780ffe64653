package org.tcpferry.tests.hooks;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The hooks compile, and run with nothing but perl-base (Essential in Debian, so always
 * installed): a syntax error or a module from perl-modules would make every hook call fail, and
 * with it every domain start.
 */
class HookScriptSyntaxTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"qemu", "libxl"})
    void compiles(String name) throws Exception {
        Path script = HookScript.HOOKS_DIR.resolve(name);
        assertThat(Files.isExecutable(script)).as("%s is executable", script).isTrue();

        Result check = perl(List.of("-c", script.toString()), "");

        assertThat(check.exitCode()).as(check.output()).isZero();
        assertThat(check.output()).contains("syntax OK");
    }

    @Test
    void runsWithPerlBaseModulesOnly() throws Exception {
        Result inc = perl(List.of("-e", "print join ':', grep { m{/perl-base$} } @INC"), "");
        assertThat(inc.output()).as("perl-base's directory in @INC").isNotBlank();
        Path log = dir.resolve("hook.log");

        // Replace @INC by perl-base's directory alone, then run the hook as libvirt would.
        Result run = perl(List.of("-e", "@INC = split /:/, shift; $0 = shift; do $0; die $@ if $@; die $! unless defined",
                inc.output().trim(), HookScript.QEMU.toString(), "vm", "migrate", "begin", "-"), DomainXml.running(),
                "TCPFERRY_HOOK_LOG", log.toString(), "TCPFERRY_CONTROL_SOCKET", dir.resolve("none.sock").toString(),
                "TCPFERRY_HOOK_CONF", dir.resolve("none.conf").toString());

        assertThat(run.exitCode()).as(run.output()).isZero();
        assertThat(run.output()).isEqualTo(DomainXml.running());
        assertThat(Files.readString(log)).contains("outcome=unreachable");
    }

    private record Result(int exitCode, String output) {}

    private static Result perl(List<String> args, String stdin, String... env) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("perl"));
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().remove("PERL5LIB");
        pb.environment().remove("PERL5OPT");
        for (int i = 0; i < env.length; i += 2) {
            pb.environment().put(env[i], env[i + 1]);
        }
        Process process = pb.start();
        try (OutputStream in = process.getOutputStream()) {
            in.write(stdin.getBytes(UTF_8));
        }
        String output = new String(process.getInputStream().readAllBytes(), UTF_8);
        assertThat(process.waitFor(10, TimeUnit.SECONDS)).as("perl finished").isTrue();
        return new Result(process.exitValue(), output);
    }
}
