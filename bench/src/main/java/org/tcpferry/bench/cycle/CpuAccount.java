package org.tcpferry.bench.cycle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Where the machine's CPU went during a phase: the user and system time of every thread of the
 * benchmark's processes (the agent, the benchmark's JVM with host manager A in it, the two
 * streamers), read from {@code /proc/PID/task/TID/stat} at the phase's start and end. Unlike the
 * wall times, these do not grow when threads wait for a core, so they say what each part costs
 * and which part dominates. Resolution is one clock tick (10 ms): meaningful from N = 1000 on.
 */
final class CpuAccount {
    /** Clock ticks per second of /proc's times (USER_HZ, 100 on Linux). */
    private static final double TICKS_PER_SECOND = 100;

    private final Map<String, Long> roles;

    /** @param roles process role (agent, host+bench, peer, app) to its pid */
    CpuAccount(Map<String, Long> roles) {
        this.roles = new LinkedHashMap<>(roles);
    }

    /** Ticks used so far by each thread, under "role: thread" with the thread's name made comparable across runs. */
    Map<String, Long> snapshot() {
        Map<String, Long> ticks = new HashMap<>();
        roles.forEach((role, pid) -> {
            Path tasks = Path.of("/proc", Long.toString(pid), "task");
            try (Stream<Path> list = Files.list(tasks)) {
                for (Path task : list.toList()) {
                    readThread(task, role, ticks);
                }
            } catch (IOException gone) {
                // the process ended: it used nothing more
            }
        });
        return ticks;
    }

    private static void readThread(Path task, String role, Map<String, Long> ticks) {
        String stat;
        try {
            stat = Files.readString(task.resolve("stat"));
        } catch (IOException gone) {
            return; // the thread ended between the listing and the read
        }
        String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long used = Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime
        ticks.merge(role + ": " + comparable(name), used, Long::sum);
    }

    /** "copies-tf00ego" and "copies-tf01abc" are the same thread of two rigs; "GC Thread#1" is one of the GC threads. */
    static String comparable(String threadName) {
        return threadName.replaceAll("-tf[0-9a-z]+.*$", "").replaceAll("[ #]*[0-9]+$", "").trim();
    }

    /** CPU seconds per "role: thread" between two snapshots, and per role under "role: all". */
    static Map<String, Double> seconds(Map<String, Long> from, Map<String, Long> to) {
        Map<String, Double> used = new HashMap<>();
        to.forEach((key, ticks) -> {
            long delta = ticks - from.getOrDefault(key, 0L);
            if (delta > 0) {
                used.merge(key, delta / TICKS_PER_SECOND, Double::sum);
                used.merge(key.substring(0, key.indexOf(':')) + ": all", delta / TICKS_PER_SECOND, Double::sum);
            }
        });
        return used;
    }
}
