package org.tcpferry.diag;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A daemon refuses to start, naming each missing feature and why it needs it. */
class RequireCapabilitiesTest {
    @Test
    void missingFeatureIsNamedWithItsPurpose() {
        List<Check> checks = new ArrayList<>();
        for (Feature f : Feature.values()) {
            checks.add(new Check(f, f != Feature.TCP_REPAIR && f != Feature.NFT, f == Feature.NFT ? "nft not found" : "probed"));
        }
        CapabilityReport report = new CapabilityReport(checks, null, null);

        assertThatThrownBy(() -> report.require("tcpferry hostd", EnumSet.of(Feature.TCP_REPAIR, Feature.NFT, Feature.PIDFD)))
                .isInstanceOf(MissingCapabilityException.class)
                .hasMessageStartingWith("tcpferry hostd cannot run here")
                .hasMessageContaining("TCP_REPAIR")
                .hasMessageContaining("nft not found")
                .satisfies(e -> assertThat(((MissingCapabilityException) e).missing()).hasSize(2));
        assertThatCode(() -> report.require("tcpferry hostd", EnumSet.of(Feature.PIDFD))).doesNotThrowAnyException();
    }

    @Test
    void thisMachineHasWhatBothDaemonsNeed() {
        // As root with nftables installed, the way CI runs.
        assertThatCode(() -> Capabilities.probe().require("test", EnumSet.of(Feature.CAP_NET_ADMIN, Feature.CAP_SYS_ADMIN,
                Feature.TCP_REPAIR, Feature.NFT, Feature.SOCK_DIAG, Feature.PIDFD))).doesNotThrowAnyException();
    }
}
