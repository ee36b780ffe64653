package org.tcpferry.diag;

import java.io.IOException;

/** Prints the capability probe's report and what is missing; run in a child JVM by {@link UnprivilegedProbeTest}. */
public final class ProbeMain {
    private ProbeMain() {}

    public static void main(String[] args) throws IOException {
        CapabilityReport report = Capabilities.probe();
        System.out.println(report);
        for (String reason : report.missing()) {
            System.out.println("missing: " + reason);
        }
    }
}
