package org.tcpferry.bench.cycle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The 1, 5 and 15 minute load averages: the machine is shared, and numbers mean little without them. */
final class LoadAverage {
    private LoadAverage() {}

    static String read() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "unreadable (" + e.getMessage() + ")";
        }
    }
}
