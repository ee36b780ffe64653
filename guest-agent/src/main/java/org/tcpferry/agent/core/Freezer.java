package org.tcpferry.agent.core;

import com.sun.jna.Native;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tcpferry.sys.LibC;

/**
 * Freezes and thaws the owners of carried sockets. A socket in repair mode makes its owner's
 * send() fail with EINVAL and recv() with EPERM, so an owner must not run from the dump until the
 * socket is conformed. A cgroup v2 is frozen as a whole ({@code cgroup.freeze}, then wait for
 * {@code frozen 1} in {@code cgroup.events}); an owner in the root cgroup or in the agent's own
 * cgroup (freezing that would freeze the agent) is stopped with SIGSTOP instead.
 */
public final class Freezer {
    private static final Logger log = LoggerFactory.getLogger(Freezer.class);
    private static final long SYS_KILL = 62; // x86_64
    private static final int SIGSTOP = 19;
    private static final int SIGCONT = 18;
    private static final long WAIT_NANOS = 3_000_000_000L;

    private final Path cgroupMount;
    private final String ownCgroup;

    private Freezer(Path cgroupMount, String ownCgroup) {
        this.cgroupMount = cgroupMount;
        this.ownCgroup = ownCgroup;
    }

    /** Finds the cgroup2 mount (none: every owner gets SIGSTOP) and this process's own cgroup. */
    public static Freezer forThisProcess() throws IOException {
        Path mount = cgroup2Mount().orElse(null);
        String own = cgroupOf(ProcessHandle.current().pid()).orElse("/");
        log.info("event=freezer cgroup2={} own_cgroup={}", mount, own);
        return new Freezer(mount, own);
    }

    /** How to freeze one owner process in cgroup {@code cgroup} ("" if unknown). */
    public FreezeUnit unitFor(int pid, String cgroup) throws IOException {
        boolean ownAncestry = ownCgroup.equals(cgroup) || ownCgroup.startsWith(cgroup.endsWith("/") ? cgroup : cgroup + "/");
        if (cgroupMount == null || cgroup.isEmpty() || cgroup.equals("/") || ownAncestry
                || !Files.exists(cgroupMount.resolve(cgroup.substring(1)).resolve("cgroup.freeze"))) {
            return FreezeUnit.process(pid, startTime(pid));
        }
        return FreezeUnit.cgroup(cgroup);
    }

    /** Freezes {@code unit} and returns once it cannot run any more. */
    public void freeze(FreezeUnit unit) throws IOException {
        if (unit.isCgroup()) {
            Path dir = cgroupDir(unit);
            Files.writeString(dir.resolve("cgroup.freeze"), "1");
            waitUntil(() -> Files.readString(dir.resolve("cgroup.events")).contains("frozen 1"), unit);
        } else {
            signal(unit.pid(), SIGSTOP);
            waitUntil(() -> allTasksStopped(unit.pid()), unit);
        }
    }

    /** Lets {@code unit} run again; a process that is gone (or whose pid was reused) is skipped. */
    public void thaw(FreezeUnit unit) throws IOException {
        if (unit.isCgroup()) {
            Path dir = cgroupDir(unit);
            if (Files.exists(dir)) {
                Files.writeString(dir.resolve("cgroup.freeze"), "0");
            }
            return;
        }
        long now;
        try {
            now = startTime(unit.pid());
        } catch (NoSuchFileException gone) {
            log.warn("event=thaw_skipped unit={} why=\"process is gone\"", unit);
            return;
        }
        if (unit.startTime() != 0 && now != unit.startTime()) {
            log.warn("event=thaw_skipped unit={} why=\"pid now names another process\"", unit);
            return;
        }
        signal(unit.pid(), SIGCONT);
    }

    private Path cgroupDir(FreezeUnit unit) {
        return cgroupMount.resolve(unit.cgroup().substring(1));
    }

    private static void signal(int pid, int signal) throws IOException {
        if (LibC.syscall(SYS_KILL, pid, signal, 0) != 0) {
            int errno = Native.getLastError();
            throw new IOException("kill(" + pid + ", " + signal + ") failed: " + LibC.strerror(errno));
        }
    }

    private static boolean allTasksStopped(int pid) throws IOException {
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", Integer.toString(pid), "task"))) {
            for (Path task : tasks) {
                String stat;
                try {
                    stat = Files.readString(task.resolve("stat"));
                } catch (NoSuchFileException exited) {
                    continue;
                }
                char state = stat.charAt(stat.lastIndexOf(')') + 2);
                if (state != 'T' && state != 't' && state != 'Z' && state != 'X') {
                    return false;
                }
            }
        }
        return true;
    }

    /** Field 22 of /proc/PID/stat: start time in clock ticks since boot. */
    static long startTime(int pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[19]); // field 22 overall; fields[0] is field 3
    }

    private interface Condition {
        boolean holds() throws IOException;
    }

    private static void waitUntil(Condition condition, FreezeUnit unit) throws IOException {
        long deadline = System.nanoTime() + WAIT_NANOS;
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new IOException(unit + " did not freeze within " + WAIT_NANOS / 1_000_000 + " ms");
            }
            try {
                Thread.sleep(0, 200_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while freezing " + unit, e);
            }
        }
    }

    private static Optional<Path> cgroup2Mount() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            // "... mountpoint options - fstype source superoptions"
            int dash = line.indexOf(" - ");
            if (dash > 0 && line.substring(dash + 3).startsWith("cgroup2 ")) {
                return Optional.of(Path.of(line.split(" ")[4]));
            }
        }
        return Optional.empty();
    }

    private static Optional<String> cgroupOf(long pid) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc", Long.toString(pid), "cgroup"));
        return lines.stream().filter(l -> l.startsWith("0::")).map(l -> l.substring(3)).findFirst();
    }
}
