package org.tcpferry.bench.cycle;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Memory of this process (which runs host manager A and the agent) before a handoff and while
 * holding: resident set (VmRSS) and Java heap after a full GC. The difference per held connection,
 * less the bytes spooled, is an upper bound for the host manager's cost per connection: it also
 * contains the agent's per-connection state (its dump and bookkeeping), which lives here too.
 */
final class MemoryProbe {
    /** One reading, in bytes. */
    record Snapshot(long rss, long heap) {
        PerConnection perConnection(Snapshot before, int n, long spooled) {
            return new PerConnection((rss - before.rss - spooled) / (double) n, (heap - before.heap - spooled) / (double) n,
                    spooled);
        }
    }

    /** Bytes per held connection beyond its spool, by RSS and by live heap; and the spool itself. */
    record PerConnection(double rssBytes, double heapBytes, long spooledBytes) {
    }

    private MemoryProbe() {}

    static Snapshot take() throws IOException, InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        return new Snapshot(rssOf("self"), heap);
    }

    /** VmRSS of /proc/{@code pid}, in bytes. */
    static long rssOf(String pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", pid, "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IOException("no VmRSS in /proc/" + pid + "/status");
    }
}
