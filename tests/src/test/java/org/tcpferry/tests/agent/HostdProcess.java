package org.tcpferry.tests.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.tcpferry.host.config.HostConfig;
import org.tcpferry.host.keeper.FdKeeper;
import org.tcpferry.protocol.ControlCommand;
import org.tcpferry.protocol.ControlReply;
import org.tcpferry.protocol.FrameStreams;
import org.tcpferry.protocol.Hello;
import org.tcpferry.protocol.HelloReply;
import org.tcpferry.protocol.Message;
import org.tcpferry.protocol.MessageCodec;

/**
 * {@code bin/tcpferry hostd} as a process of its own, as systemd runs it, with the fd keeper it
 * starts: it can be killed with SIGKILL and started again on the same configuration. Its output
 * goes to {@code hostd.log} in the bed's directory, the keeper's to the keeper socket's
 * {@code .log}.
 */
public final class HostdProcess implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HostConfig config;
    private final Path configFile;
    private final Path log;
    private Process process;

    private HostdProcess(HostConfig config, Path configFile, Path log) {
        this.config = config;
        this.configFile = configFile;
        this.log = log;
    }

    /** Writes {@code config} as JSON into {@code dir} and starts the daemon on it. */
    public static HostdProcess start(HostConfig config, Path dir) throws Exception {
        Path file = dir.resolve("host.json");
        JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), config);
        HostdProcess hostd = new HostdProcess(config, file, dir.resolve("hostd.log"));
        hostd.start();
        return hostd;
    }

    /** Starts the daemon (again) and waits until its control socket answers. */
    public void start() throws Exception {
        start(Map.of());
    }

    /** As {@link #start()}, with {@code environment} added (e.g. TCPFERRY_CRASH_AT). */
    public void start(Map<String, String> environment) throws Exception {
        start(environment, java.util.List.of());
    }

    /** As {@link #start(Map)}, with {@code options} added to {@code tcpferry hostd} (e.g. --drop-on-stop). */
    public void start(Map<String, String> environment, java.util.List<String> options) throws Exception {
        Path script = Path.of("..", "bin", "tcpferry").toAbsolutePath().normalize();
        Files.deleteIfExists(Path.of(config.controlSocket()));
        java.util.List<String> command = new java.util.ArrayList<>(
                java.util.List.of(script.toString(), "hostd", "--config", configFile.toString()));
        command.addAll(options);
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().putAll(environment);
        process = builder.start();
        long deadline = System.currentTimeMillis() + 60_000;
        while (true) {
            if (!process.isAlive()) {
                throw new AssertionError("hostd exited with " + process.exitValue() + ": " + tail());
            }
            try {
                status();
                return;
            } catch (IOException notYet) {
                if (System.currentTimeMillis() > deadline) {
                    throw new AssertionError("hostd did not answer on its control socket: " + tail(), notYet);
                }
                Thread.sleep(100);
            }
        }
    }

    /**
     * Runs the daemon once on {@code other} instead of its own configuration and waits for it to
     * exit (a start expected to fail).
     * @return its exit code
     */
    public int runOnce(HostConfig other) throws Exception {
        Path file = configFile.resolveSibling("host-once.json");
        JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), other);
        Path script = Path.of("..", "bin", "tcpferry").toAbsolutePath().normalize();
        Process once = new ProcessBuilder(script.toString(), "hostd", "--config", file.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        if (!once.waitFor(60, TimeUnit.SECONDS)) {
            once.destroyForcibly();
            throw new AssertionError("hostd on " + file + " did not exit: " + tail());
        }
        return once.exitValue();
    }

    public HostConfig config() {
        return config;
    }

    /** SIGKILL: no shutdown hook runs, every descriptor the daemon had is closed by the kernel. */
    public void kill9() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            throw new AssertionError("hostd " + process.pid() + " survived SIGKILL");
        }
    }

    /**
     * SIGTERM: with nothing held the daemon removes its steering and the keeper exits; while
     * holding it leaves the copies with the keeper, steered, for the next start. Exit 0 expected.
     */
    public int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("hostd did not stop within 60 s of SIGTERM: " + tail());
        }
        return process.exitValue();
    }

    /** Waits for the daemon to die (a crash point it was started with). */
    public void awaitDeath(long timeoutMillis) throws InterruptedException {
        if (!process.waitFor(timeoutMillis, TimeUnit.MILLISECONDS)) {
            throw new AssertionError("hostd did not die within " + timeoutMillis + " ms: " + tail());
        }
    }

    public long pid() {
        return process.pid();
    }

    public boolean alive() {
        return process != null && process.isAlive();
    }

    /** The status document ({@code tcpferry status --json}). */
    public JsonNode status() throws IOException {
        return JSON.readTree(control("status", Map.of()).json());
    }

    /** One control command over the control socket, as the CLI sends it. */
    public ControlReply control(String verb, Map<String, String> args) throws IOException {
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(config.controlSocket()))) {
            OutputStream out = Channels.newOutputStream(ch);
            InputStream in = Channels.newInputStream(ch);
            FrameStreams.write(out, MessageCodec.encode(1, new Hello(Hello.CONTROL, "reliability-test", "")));
            Message hello = MessageCodec.decode(FrameStreams.read(in));
            if (!(hello instanceof HelloReply)) {
                throw new IOException("control socket answered Hello with " + hello);
            }
            FrameStreams.write(out, MessageCodec.encode(3, new ControlCommand(verb, args)));
            while (true) {
                var frame = FrameStreams.read(in);
                if (frame == null) {
                    throw new IOException("control socket closed before answering " + verb);
                }
                if (MessageCodec.decode(frame) instanceof ControlReply reply) {
                    return reply;
                }
            }
        }
    }

    /** The fd keeper's process, while it runs. */
    public Optional<ProcessHandle> keeper() throws IOException {
        Path pidFile = FdKeeper.pidFile(Path.of(config.fdKeeperSocket()));
        if (!Files.exists(pidFile)) {
            return Optional.empty();
        }
        String pid = Files.readString(pidFile).strip();
        if (pid.isEmpty()) {
            return Optional.empty(); // a keeper starting: it listens before it writes its pid
        }
        return ProcessHandle.of(Long.parseLong(pid)).filter(ProcessHandle::isAlive);
    }

    /** Waits up to {@code millis} for the keeper to exit; returns it if it still runs. */
    public Optional<ProcessHandle> awaitKeeperExit(long millis) throws Exception {
        long deadline = System.currentTimeMillis() + millis;
        Optional<ProcessHandle> keeper = keeper();
        while (keeper.isPresent() && System.currentTimeMillis() < deadline) {
            Thread.sleep(100); // it exits once the daemon that dropped everything has gone
            keeper = keeper();
        }
        return keeper;
    }

    /** The last lines of the daemon's output, for failure messages. */
    public String tail() {
        try {
            String text = Files.readString(log);
            return text.substring(Math.max(0, text.length() - 4000));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** Stops the daemon if it runs and ends a keeper left behind (a test that failed half-way). */
    @Override
    public void close() throws Exception {
        if (alive()) {
            stop();
        }
        if (!alive() && awaitKeeperExit(3_000).isPresent()) {
            // A test that failed while holding: the stop left the copies with the keeper. A start
            // with --drop-on-stop adopts them, and its stop ends them and removes all steering.
            System.out.println("hostd left copies with the fd keeper; ending them with a --drop-on-stop run");
            try {
                start(Map.of(), java.util.List.of("--drop-on-stop"));
                stop();
            } catch (Exception | AssertionError e) {
                System.out.println("the --drop-on-stop run failed: " + e);
            }
        }
        Optional<ProcessHandle> keeper = awaitKeeperExit(10_000);
        if (keeper.isPresent()) {
            keeper.get().destroyForcibly();
            keeper.get().onExit().get(10, TimeUnit.SECONDS);
            throw new AssertionError("the fd keeper " + keeper.get().pid() + " was still running after hostd stopped");
        }
    }
}
