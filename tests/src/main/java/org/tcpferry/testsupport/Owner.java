package org.tcpferry.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A process that owns a socket, and the processes it started: stopped and continued as one, the
 * way the guest agent freezes an application. Signals go through kill(1).
 */
public final class Owner {
    private final Process process;

    public Owner(Process process) {
        this.process = process;
    }

    public long pid() {
        return process.pid();
    }

    public Process process() {
        return process;
    }

    /** The owner and every descendant. */
    public List<Long> pids() {
        List<Long> pids = new ArrayList<>();
        pids.add(process.pid());
        process.descendants().forEach(p -> pids.add(p.pid()));
        return pids;
    }

    public void stop() throws IOException, InterruptedException {
        signal("-STOP");
        // Wait until every task shows state T: only then is it guaranteed not to touch the socket.
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (!allStopped()) {
            if (System.nanoTime() > deadline) {
                throw new IOException("owner " + pid() + " did not stop");
            }
            Thread.sleep(2);
        }
    }

    public void resume() throws IOException, InterruptedException {
        signal("-CONT");
    }

    /** The target of {@code /proc/PID/fd/FD}, e.g. {@code socket:[12345]}. */
    public String fdTarget(int fd) throws IOException {
        return Files.readSymbolicLink(Path.of("/proc", Long.toString(pid()), "fd", Integer.toString(fd))).toString();
    }

    private boolean allStopped() throws IOException {
        for (long pid : pids()) {
            Path stat = Path.of("/proc", Long.toString(pid), "stat");
            if (!Files.exists(stat)) {
                continue;
            }
            String s = Files.readString(stat);
            char state = s.charAt(s.lastIndexOf(')') + 2);
            if (state != 'T' && state != 't') {
                return false;
            }
        }
        return true;
    }

    private void signal(String which) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("kill", which));
        for (long pid : pids()) {
            cmd.add(Long.toString(pid));
        }
        Process kill = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(kill.getInputStream().readAllBytes());
        if (kill.waitFor() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
    }
}
