package org.tcpferry.tests.hooks;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a hook script the way libvirt does (virRunScript): {@code SCRIPT DOMAIN OP SUBOP EXTRA},
 * the domain XML written to a stdin pipe, and only the environment libvirt passes
 * (virCommandAddEnvPassCommon: LC_ALL=C, PATH, HOME, USER, LOGNAME), plus the hook's own
 * variables pointing it at the test's socket, log file and (absent) config file, so the
 * machine's /etc/tcpferry/hook.conf never interferes.
 */
final class HookScript {
    /** The hooks directory of this checkout (Maven runs the tests module's tests in tests/). */
    static final Path HOOKS_DIR = Path.of("..", "libvirt-hooks").toAbsolutePath().normalize();
    static final Path QEMU = HOOKS_DIR.resolve("qemu");
    static final Path LIBXL = HOOKS_DIR.resolve("libxl");
    static final Path INSTALL = HOOKS_DIR.resolve("install.sh");

    private final Path script;
    private final Path workDir;
    private final Map<String, String> env = new LinkedHashMap<>();
    private int runs;

    /** A runner for {@code script} that keeps its files (log, outputs) in {@code workDir}. */
    HookScript(Path script, Path workDir, Path controlSocket) {
        this.script = script;
        this.workDir = workDir;
        env.put("LC_ALL", "C");
        env.put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        env.put("HOME", "/root");
        env.put("USER", "root");
        env.put("LOGNAME", "root");
        env.put("TCPFERRY_HOOK_CONF", workDir.resolve("no-such-hook.conf").toString());
        env.put("TCPFERRY_CONTROL_SOCKET", controlSocket.toString());
        env.put("TCPFERRY_HOOK_LOG", logFile().toString());
    }

    HookScript env(String name, String value) {
        if (value == null) {
            env.remove(name);
        } else {
            env.put(name, value);
        }
        return this;
    }

    Path logFile() {
        return workDir.resolve("hook.log");
    }

    /** Runs {@code script domain op subop extra} with {@code xml} on stdin. */
    HookRun run(String domain, String op, String subop, String extra, String xml) throws IOException, InterruptedException {
        return run(domain, op, subop, extra, xml, true);
    }

    /**
     * As {@link #run(String, String, String, String, String)}, but with {@code closeStdin} false the
     * XML is written and stdin then left open until the script has exited (a writer that hangs).
     */
    HookRun run(String domain, String op, String subop, String extra, String xml, boolean closeStdin)
            throws IOException, InterruptedException {
        int n = runs++;
        Path out = workDir.resolve("stdout-" + n);
        Path err = workDir.resolve("stderr-" + n);
        long logBefore = Files.exists(logFile()) ? Files.size(logFile()) : 0;
        List<String> command = new ArrayList<>(List.of(script.toString(), domain, op, subop, extra));
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().clear();
        pb.environment().putAll(env);
        long start = System.nanoTime();
        Process process = pb.start();
        OutputStream stdin = process.getOutputStream();
        try {
            stdin.write(xml.getBytes(UTF_8));
            stdin.flush();
            if (closeStdin) {
                stdin.close();
            }
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
                throw new AssertionError("hook " + command + " still running after 10 s");
            }
        } finally {
            stdin.close();
        }
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
        String log = "";
        if (Files.exists(logFile())) {
            byte[] all = Files.readAllBytes(logFile());
            log = new String(all, (int) logBefore, all.length - (int) logBefore, UTF_8);
        }
        return new HookRun(process.exitValue(), Files.readAllBytes(out), Files.readString(err, UTF_8), log, elapsed);
    }

    /** The hook as libvirt calls it for most operations: no extra argument. */
    HookRun run(String op, String subop, String xml) throws IOException, InterruptedException {
        return run(DomainXml.NAME, op, subop, "-", xml);
    }
}
