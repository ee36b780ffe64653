package org.tcpferry.diag;

import java.util.List;

/**
 * The two facts the capability probe needs from {@code /proc/self/status}: the effective uid (the
 * second number on the {@code Uid:} line) and the effective capability set ({@code CapEff:}, a hex
 * bitmask numbered as in {@code <linux/capability.h>}). Capabilities are those of this process in
 * its own user namespace.
 */
record ProcStatus(int effectiveUid, long effectiveCapabilities) {
    static final int CAP_NET_ADMIN = 12;
    static final int CAP_SYS_PTRACE = 19;
    static final int CAP_SYS_ADMIN = 21;

    static ProcStatus parse(List<String> lines) {
        Integer uid = null;
        Long capEff = null;
        for (String line : lines) {
            if (line.startsWith("Uid:")) {
                uid = Integer.parseInt(line.substring(4).trim().split("\\s+")[1]);
            } else if (line.startsWith("CapEff:")) {
                capEff = Long.parseUnsignedLong(line.substring(7).trim(), 16);
            }
        }
        if (uid == null || capEff == null) {
            throw new IllegalArgumentException("/proc/self/status without Uid: or CapEff: line");
        }
        return new ProcStatus(uid, capEff);
    }

    boolean hasCapability(int capability) {
        return (effectiveCapabilities & (1L << capability)) != 0;
    }
}
