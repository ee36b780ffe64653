package org.tcpferry.diag;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The probe in a process that lacks CAP_NET_ADMIN: a child JVM started through setpriv(1) with
 * the capability removed from its bounding set, so that even root's exec does not get it back.
 */
class UnprivilegedProbeTest {

    @Test
    void reportsTcpRepairRefusedWithTheKernelsReason() throws IOException {
        CapabilityReport here = Capabilities.probe();
        assumeTrue(here.root() && Capabilities.findExecutable("setpriv").isPresent(), "needs root and setpriv");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();

        String output = Command.run("setpriv", "--bounding-set", "-net_admin", "--inh-caps", "-net_admin", "--",
                java, "-cp", System.getProperty("java.class.path"), ProbeMain.class.getName());
        System.out.println(output);

        assertThat(output).containsPattern("MISSING +CAP_NET_ADMIN");
        assertThat(output).containsPattern("MISSING +TCP_REPAIR +setsockopt\\(fd \\d+, TCP_REPAIR, 1\\): EPERM");
        assertThat(output).contains("missing: TCP_REPAIR: " + Feature.TCP_REPAIR.purpose);
        // sock_diag dumps need no privilege
        assertThat(output).containsPattern("ok +SOCK_DIAG");
    }
}
