package org.tcpferry.rig;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Runs external commands to completion. Both output streams are drained concurrently so that a
 * chatty command cannot block on a full pipe, and a command that hangs is killed after a timeout
 * rather than hanging the test run.
 */
final class Commands {
    /** Far above anything ip or nft needs; only a hung command reaches it. */
    static final long TIMEOUT_SECONDS = 60;

    /** Threads that drain pipes; a pool of its own because draining blocks. */
    private static final ExecutorService DRAINERS = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "rig-pipe-drain");
        thread.setDaemon(true);
        return thread;
    });

    private Commands() {}

    /** Runs {@code command}, writing {@code stdin} (may be null) to it; throws when it exits non-zero. */
    static ExecResult check(List<String> command, String stdin) {
        ExecResult result = run(command, stdin);
        if (result.exitCode() != 0) {
            throw failure(command, stdin, result);
        }
        return result;
    }

    /** Runs {@code command}, writing {@code stdin} (may be null) to it, whatever its exit code. */
    static ExecResult run(List<String> command, String stdin) {
        Process process = start(command);
        CompletableFuture<String> stdout = drain(process.getInputStream());
        CompletableFuture<String> stderr = drain(process.getErrorStream());
        try (OutputStream in = process.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            // A command that exits before reading its input closes the pipe; its exit code tells why.
            if (process.isAlive()) {
                process.destroyForcibly();
                throw new RigException("cannot write the input of " + String.join(" ", command), e);
            }
        }
        try {
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
                throw new RigException(String.join(" ", command) + " did not finish within "
                        + TIMEOUT_SECONDS + " s and was killed");
            }
            return new ExecResult(process.exitValue(), stdout.get(), stderr.get());
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new RigException("interrupted while running " + String.join(" ", command), e);
        } catch (ExecutionException e) {
            throw new RigException("cannot read the output of " + String.join(" ", command), e.getCause());
        }
    }

    /** Starts {@code command} with the rig's PATH; the caller owns the process and its pipes. */
    static Process start(List<String> command) {
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("PATH", Tools.searchPath());
        try {
            return builder.start();
        } catch (IOException e) {
            throw new RigException("cannot start " + String.join(" ", command) + ": " + e.getMessage(), e);
        }
    }

    static RigException failure(List<String> command, String stdin, ExecResult result) {
        StringBuilder message = new StringBuilder()
                .append(String.join(" ", command))
                .append(" exited with ").append(result.exitCode());
        if (!result.stderr().isBlank()) {
            message.append(": ").append(result.stderr().strip());
        }
        if (stdin != null) {
            message.append("\n--- input ---\n").append(stdin.strip());
        }
        return new RigException(message.toString());
    }

    private static CompletableFuture<String> drain(InputStream stream) {
        return CompletableFuture.supplyAsync(() -> {
            try (stream) {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, DRAINERS);
    }
}
