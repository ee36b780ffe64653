package org.tcpferry.bench.cycle;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The guest agent as its own process, started as operators start it ({@code bin/tcpferry-agent run};
 * with {@code -Dcycle.agentClasspath} the same main class from that class path instead),
 * so that its memory is its own and its descriptors (a duplicate of every carried socket) do not
 * count against the benchmark's. Its log goes to stderr with a one-line pattern (level, logger,
 * epoch ms, µs within the ms, message) that the benchmark reads into the {@link LogCapture} at the
 * time the agent stamped (the reader may lag when the machine is busy); its agent and firewall
 * loggers are at debug for the phase marks, through an asynchronous appender (the work thread
 * formats a line and queues it; another thread writes it).
 */
final class AgentProcess implements AutoCloseable {
    /** The agent stamps its events with the wall clock; the benchmark's marks are System.nanoTime(). */
    private static final WallClock WALL_TO_NANO = WallClock.calibrate();
    private final Process process;
    private volatile boolean closing;

    private AgentProcess(Process process, LogCapture capture) {
        this.process = process;
        // The benchmark stopped early (Ctrl-C) must not leave an agent behind: the rig only knows what it spawned.
        Runtime.getRuntime().addShutdownHook(new Thread(process::destroy, "agent-process-stop"));
        Thread reader = new Thread(() -> read(capture), "agent-log " + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    static AgentProcess start(Path checkout, Path dir, Path channel, Path netns, LogCapture capture) throws IOException {
        Path logback = dir.resolve("agent-logback.xml");
        Files.writeString(logback, """
                <configuration>
                  <appender name="STDERR" class="ch.qos.logback.core.ConsoleAppender">
                    <target>System.err</target>
                    <encoder><pattern>%level %logger %epoch %micros %msg%n</pattern></encoder>
                  </appender>
                  <!-- The agent's work thread only queues its debug lines: a write to the pipe per line
                       (and a wait when the reader lags) would be the benchmark's cost, not the agent's.
                       Each event keeps the time it was logged at. Nothing is dropped. -->
                  <appender name="ASYNC" class="ch.qos.logback.classic.AsyncAppender">
                    <queueSize>262144</queueSize>
                    <discardingThreshold>0</discardingThreshold>
                    <appender-ref ref="STDERR"/>
                  </appender>
                  <logger name="io.netty" level="WARN"/>
                  <logger name="org.tcpferry.agent.core.Agent" level="DEBUG"/>
                  <logger name="org.tcpferry.agent.core.GuestFirewall" level="DEBUG"/>
                  <root level="INFO"><appender-ref ref="ASYNC"/></root>
                </configuration>
                """);
        List<String> command = new ArrayList<>();
        String classPath = System.getProperty("cycle.agentClasspath");
        if (classPath == null) {
            command.add(checkout.resolve("bin/tcpferry-agent").toString());
        } else {
            // What bin/tcpferry-agent runs, from run-cycle-bench's snapshot of the class path: a module
            // rebuilt elsewhere during a run would otherwise break the agent mid-run.
            // The JVM option bin/tcpferry-agent gives (C1 only: see the launcher).
            command.addAll(List.of(System.getProperty("java.home") + "/bin/java", "-XX:TieredStopAtLevel=1",
                    "-Dlogback.configurationFile=" + logback));
            command.addAll(List.of(System.getProperty("cycle.agentJavaOpts", "").split(" ")).stream().filter(o -> !o.isBlank()).toList());
            command.addAll(List.of("-cp", classPath, "org.tcpferry.agent.cli.AgentMain"));
        }
        command.addAll(List.of("run", "--channel", "unix:" + channel, "--journal", dir.resolve("journal").toString(),
                "--node", "guest-bench", "--netns", netns.toString()));
        ProcessBuilder pb = new ProcessBuilder(command);
        // -Dcycle.agentJavaOpts="-XX:StartFlightRecording=filename=agent.jfr" profiles the agent.
        pb.environment().put("TCPFERRY_JAVA_OPTS", "-Dlogback.configurationFile=" + logback + " "
                + System.getProperty("cycle.agentJavaOpts", ""));
        pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        return new AgentProcess(pb.start(), capture);
    }

    long pid() {
        return process.pid();
    }

    /** With {@code -Dcycle.agentLog=FILE}, the agent's log is also kept in FILE (for a closer look at a run). */
    private void read(LogCapture capture) {
        String copyTo = System.getProperty("cycle.agentLog");
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8));
                java.io.PrintWriter copy = copyTo == null ? null : new java.io.PrintWriter(Files.newBufferedWriter(Path.of(copyTo)))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (copy != null) {
                    copy.println(line);
                }
                String[] f = line.split(" ", 5);
                if (f.length == 5 && f[2].matches("[0-9]+") && f[3].matches("[0-9]+")) {
                    long wallMicros = Long.parseLong(f[2]) * 1000 + Long.parseLong(f[3]);
                    capture.ingest(WALL_TO_NANO.toNanoTime(wallMicros), f[0], f[1], f[4]);
                } else {
                    System.err.println("agent: " + line);
                }
            }
        } catch (IOException e) {
            if (!closing) {
                System.err.println("reading the agent's log failed: " + e.getMessage());
            } // else: closed as the agent exited
        }
    }

    /** Maps the wall clock (µs since the epoch) to this JVM's {@link System#nanoTime()}. */
    record WallClock(long offsetNanos) {
        static WallClock calibrate() {
            long best = Long.MAX_VALUE;
            long offset = 0;
            for (int i = 0; i < 100; i++) { // the reading with the shortest bracket is the most exact
                long before = System.nanoTime();
                java.time.Instant now = java.time.Instant.now();
                long after = System.nanoTime();
                if (after - before < best) {
                    best = after - before;
                    offset = now.getEpochSecond() * 1_000_000_000L + now.getNano() - (before + after) / 2;
                }
            }
            return new WallClock(offset);
        }

        long toNanoTime(long wallMicros) {
            return wallMicros * 1000 - offsetNanos;
        }
    }

    @Override
    public void close() throws InterruptedException {
        closing = true;
        process.destroy(); // SIGTERM: the agent's shutdown hook closes it
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
    }
}
