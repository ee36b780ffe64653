package org.tcpferry.diag;

import java.io.IOException;
import java.util.List;

/** A daemon cannot do its job on this machine: the message lists each missing feature and why it is needed. */
public final class MissingCapabilityException extends IOException {
    private final List<String> missing;

    MissingCapabilityException(String who, List<String> missing) {
        super(who + " cannot run here; missing:\n  - " + String.join("\n  - ", missing)
                + "\nRun as root (or with CAP_NET_ADMIN, CAP_SYS_ADMIN and CAP_SYS_PTRACE) on Linux 5.14 or later"
                + " with nftables installed.");
        this.missing = List.copyOf(missing);
    }

    public List<String> missing() {
        return missing;
    }
}
