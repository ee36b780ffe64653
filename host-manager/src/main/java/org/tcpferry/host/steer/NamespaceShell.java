package org.tcpferry.host.steer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code ip} (and other commands) inside one network namespace; nft scripts go through
 * {@link org.tcpferry.nft.Nftables} instead. With a namespace file the command
 * runs under {@code nsenter --net=FILE}, which enters only the network namespace (unlike
 * {@code ip netns exec}, which also remounts /sys); without one it runs in the daemon's namespace.
 */
public final class NamespaceShell {
    private static final long TIMEOUT_SECONDS = 30;

    private final Path netns;

    /** @param netns the namespace file, or null for the daemon's own namespace */
    public NamespaceShell(Path netns) {
        this.netns = netns;
    }

    public Path netns() {
        return netns;
    }

    /** Runs {@code argv} with {@code stdin} (may be null) and returns its stdout; fails on a non-zero exit. */
    public String run(List<String> argv, String stdin) throws IOException {
        List<String> command = new ArrayList<>();
        if (netns != null) {
            command.add("nsenter");
            command.add("--net=" + netns);
        }
        command.addAll(argv);
        Process process = new ProcessBuilder(command).start();
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        Thread errDrain = drain(process.getErrorStream(), stderr);
        try (OutputStream in = process.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        }
        process.getInputStream().transferTo(stdout);
        try {
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish in " + TIMEOUT_SECONDS + " s");
            }
            errDrain.join();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + String.join(" ", command), e);
        }
        if (process.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " exited " + process.exitValue() + ": "
                    + stderr.toString(StandardCharsets.UTF_8).strip()
                    + (stdin == null ? "" : "\ninput was:\n" + abbreviate(stdin)));
        }
        return stdout.toString(StandardCharsets.UTF_8);
    }

    public String ip(String... args) throws IOException {
        List<String> argv = new ArrayList<>();
        argv.add("ip");
        argv.addAll(List.of(args));
        return run(argv, null);
    }

    private static Thread drain(InputStream stream, ByteArrayOutputStream sink) {
        Thread t = new Thread(() -> {
            try {
                stream.transferTo(sink);
            } catch (IOException e) {
                // The process's stderr closed under us; the exit code still tells success or failure.
                sink.writeBytes(("(stderr unreadable: " + e.getMessage() + ")").getBytes(StandardCharsets.UTF_8));
            }
        }, "stderr-drain");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static String abbreviate(String text) {
        return text.length() <= 2000 ? text : text.substring(0, 2000) + "\n... (" + text.length() + " chars)";
    }

    @Override
    public String toString() {
        return netns == null ? "own netns" : "netns " + netns;
    }
}
