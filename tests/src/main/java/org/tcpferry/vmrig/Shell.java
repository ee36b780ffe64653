package org.tcpferry.vmrig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the rig's helper commands (the vm-images scripts, virsh, the tcpferry CLI) and waits for
 * them. Output goes to temporary files rather than pipes, so a command that leaves a daemon behind
 * holding its stdout (libvirtd --daemon) cannot block the wait.
 */
public final class Shell {
    private Shell() {}

    /** What a finished command returned and printed, and how long it ran. */
    public record Result(List<String> command, int exitCode, String stdout, String stderr, long millis) {
        /** True when the command exited 0. */
        public boolean succeeded() {
            return exitCode == 0;
        }

        /** The command line and everything it printed, for failure messages. */
        public String describe() {
            return String.join(" ", command) + " -> exit " + exitCode + " after " + millis + " ms\nstdout: "
                    + stdout.strip() + "\nstderr: " + stderr.strip();
        }
    }

    /** Runs {@code command}; throws with its output when it exits non-zero or outlives {@code timeoutSeconds}. */
    public static Result check(long timeoutSeconds, String... command) {
        Result result = run(timeoutSeconds, Map.of(), command);
        if (!result.succeeded()) {
            throw new IllegalStateException("command failed: " + result.describe());
        }
        return result;
    }

    /** Runs {@code command} with extra environment variables, whatever its exit code. */
    public static Result run(long timeoutSeconds, Map<String, String> environment, String... command) {
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("tfvm-out", ".txt");
            err = Files.createTempFile("tfvm-err", ".txt");
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            builder.environment().putAll(environment);
            long start = System.nanoTime();
            Process process = builder.start();
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
                throw new IllegalStateException("command did not finish within " + timeoutSeconds + " s: "
                        + String.join(" ", command) + "\nstderr so far: " + Files.readString(err, StandardCharsets.UTF_8));
            }
            long millis = (System.nanoTime() - start) / 1_000_000;
            return new Result(List.of(command), process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8), millis);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + String.join(" ", command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + String.join(" ", command), e);
        } finally {
            deleteQuietly(out);
            deleteQuietly(err);
        }
    }

    private static void deleteQuietly(Path file) {
        if (file == null) {
            return;
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // A leftover temporary file is harmless; the command's own outcome matters more.
            System.err.println("vmrig: cannot delete " + file + ": " + e);
        }
    }
}
