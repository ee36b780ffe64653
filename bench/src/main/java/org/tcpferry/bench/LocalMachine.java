package org.tcpferry.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** One line that says where a benchmark ran: kernel, cores, CPU model, JVM. */
public final class LocalMachine {
    private LocalMachine() {}

    static String describe() {
        return String.format("Linux %s, %d cores (%s), Java %s", System.getProperty("os.version"),
                Runtime.getRuntime().availableProcessors(), cpuModel(), System.getProperty("java.version"));
    }

    /** The CPU's model name from /proc/cpuinfo, or what kept it from being read. */
    public static String cpuModel() {
        String cpu = "unknown CPU";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    cpu = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (IOException e) {
            cpu = "CPU unreadable: " + e.getMessage();
        }
        return cpu;
    }

    /** The 1, 5 and 15 minute load averages, as /proc/loadavg gives them. */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "unreadable (" + e.getMessage() + ")";
        }
    }
}
