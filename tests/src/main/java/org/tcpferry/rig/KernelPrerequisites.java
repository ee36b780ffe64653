package org.tcpferry.rig;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What this process lacks to run kernel tests, each as a sentence for a skip or failure message.
 * Read from {@code /proc/self/status} (effective uid and capabilities) and the tool search path.
 */
public final class KernelPrerequisites {
    static final int CAP_NET_ADMIN = 12;
    static final int CAP_SYS_ADMIN = 21;

    private static volatile List<String> cached;

    private KernelPrerequisites() {}

    /** The missing prerequisites of this process, empty when kernel tests can run; computed once. */
    public static List<String> missing() {
        List<String> result = cached;
        if (result == null) {
            result = List.copyOf(probe());
            cached = result;
        }
        return result;
    }

    private static List<String> probe() {
        List<String> missing = new ArrayList<>();
        List<String> status;
        try {
            status = Files.readAllLines(Path.of("/proc/self/status"));
        } catch (IOException e) {
            missing.add("cannot read /proc/self/status (" + e.getMessage() + "): not Linux?");
            return missing;
        }
        missing.addAll(fromStatus(status));
        for (String tool : Tools.missing()) {
            missing.add("`" + tool + "` is not installed (searched " + Tools.searchPath() + ")");
        }
        return missing;
    }

    /** The uid and capability checks on the lines of a {@code /proc/PID/status} file. */
    static List<String> fromStatus(List<String> status) {
        List<String> missing = new ArrayList<>();
        String euid = field(status, "Uid:", 1);
        if (!"0".equals(euid)) {
            missing.add("not running as root (effective uid " + euid + ")");
        }
        String capEff = field(status, "CapEff:", 0);
        BigInteger caps = capEff == null ? BigInteger.ZERO : new BigInteger(capEff, 16);
        if (!caps.testBit(CAP_NET_ADMIN)) {
            missing.add("no CAP_NET_ADMIN (needed for TCP_REPAIR, links, nft)");
        }
        if (!caps.testBit(CAP_SYS_ADMIN)) {
            missing.add("no CAP_SYS_ADMIN (needed for ip netns add and setns)");
        }
        return missing;
    }

    /** Whitespace-separated value {@code index} after {@code key} on its status line, or null. */
    private static String field(List<String> status, String key, int index) {
        for (String line : status) {
            if (line.startsWith(key)) {
                String[] values = line.substring(key.length()).trim().split("\\s+");
                return index < values.length ? values[index] : null;
            }
        }
        return null;
    }
}
