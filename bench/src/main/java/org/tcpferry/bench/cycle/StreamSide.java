package org.tcpferry.bench.cycle;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.tcpferry.rig.Namespace;

/** A {@link Streamer} process in a namespace of the rig, and the gaps it reported. */
final class StreamSide {
    /** A time in which the side's loop did not run ({@code tick}) or its stream was not acknowledged ({@code ack}). */
    record Gap(String kind, long startNanos, long nanos) {
        long endNanos() {
            return startNanos + nanos;
        }
    }

    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<Gap> gaps = new ArrayList<>();
    private final List<String> errors = new ArrayList<>();

    private StreamSide(Process process) {
        this.process = process;
        Thread reader = new Thread(this::read, "streamer-stdout " + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    static StreamSide start(Namespace ns, String mode, String ip, int port, int count, int fast) {
        String java = ProcessHandle.current().info().command().orElse("java");
        return new StreamSide(ns.spawn(java, "-Xmx256m", "-XX:TieredStopAtLevel=1",
                "-Dlogback.statusListenerClass=ch.qos.logback.core.status.NopStatusListener", "-cp",
                System.getProperty("java.class.path"), Streamer.class.getName(), mode, ip, Integer.toString(port),
                Integer.toString(count), Integer.toString(fast)));
    }

    long pid() {
        return process.pid();
    }

    private void read() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.US_ASCII))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("GAP ")) {
                    String[] f = line.split(" ");
                    // GAP tick <start> <nanos> | GAP ack <conn> <start> <nanos>
                    int at = f[1].equals("ack") ? 3 : 2;
                    synchronized (gaps) {
                        gaps.add(new Gap(f[1], Long.parseLong(f[at]), Long.parseLong(f[at + 1])));
                    }
                } else if (line.startsWith("ERROR")) {
                    synchronized (errors) {
                        errors.add(line);
                    }
                } else {
                    lines.add(line);
                }
            }
        } catch (IOException e) {
            lines.add("ERROR reading the streamer's output: " + e.getMessage());
        }
    }

    void expect(String line, long timeoutMillis) throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (true) {
            String got = lines.poll(Math.max(1, deadline - System.currentTimeMillis()), TimeUnit.MILLISECONDS);
            if (got == null) {
                String err = new String(process.getErrorStream().readNBytes(Math.min(4096, process.getErrorStream().available())));
                throw new IllegalStateException("streamer " + process.pid() + " did not print " + line + "; errors "
                        + errors() + "; stderr: " + err);
            }
            if (got.equals(line)) {
                return;
            }
        }
    }

    /** The longest gap of {@code kind} that ended inside [from, to], in nanoseconds (0: none). */
    long longestGapEndingIn(String kind, long from, long to) {
        long longest = 0;
        synchronized (gaps) {
            for (Gap g : gaps) {
                if (g.kind().equals(kind) && g.endNanos() >= from && g.endNanos() <= to) {
                    longest = Math.max(longest, g.nanos());
                }
            }
        }
        return longest;
    }

    List<String> errors() {
        synchronized (errors) {
            return List.copyOf(errors);
        }
    }

    void stop() throws InterruptedException {
        try {
            process.getOutputStream().close();
        } catch (IOException e) {
            System.err.println("closing streamer stdin: " + e.getMessage());
        }
        if (!process.waitFor(3, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
