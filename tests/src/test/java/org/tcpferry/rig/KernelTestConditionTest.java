package org.tcpferry.rig;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.tcpferry.rig.KernelTestCondition.Verdict;

class KernelTestConditionTest {

    @Test
    void runsWhenNothingIsMissing() {
        assertThat(KernelTestCondition.verdict(List.of(), false)).isEqualTo(Verdict.RUN);
        assertThat(KernelTestCondition.verdict(List.of(), true)).isEqualTo(Verdict.RUN);
    }

    @Test
    void skipsLocallyButFailsUnderCi() {
        List<String> missing = List.of("not running as root (effective uid 1000)");
        assertThat(KernelTestCondition.verdict(missing, false)).isEqualTo(Verdict.SKIP);
        assertThat(KernelTestCondition.verdict(missing, true)).isEqualTo(Verdict.FAIL);
        assertThat(KernelTestCondition.reason(missing)).contains("effective uid 1000");
    }

    @Test
    void rootWithFullCapabilitiesLacksNothing() {
        List<String> status = List.of("Name:\tjava", "Uid:\t0\t0\t0\t0", "CapEff:\t000001ffffffffff");
        assertThat(KernelPrerequisites.fromStatus(status)).isEmpty();
    }

    @Test
    void userWithoutCapabilitiesLacksRootAndBothCapabilities() {
        List<String> status = List.of("Uid:\t1000\t1000\t1000\t1000", "CapEff:\t0000000000000000");
        assertThat(KernelPrerequisites.fromStatus(status))
                .hasSize(3)
                .anySatisfy(reason -> assertThat(reason).contains("effective uid 1000"))
                .anySatisfy(reason -> assertThat(reason).contains("CAP_NET_ADMIN"))
                .anySatisfy(reason -> assertThat(reason).contains("CAP_SYS_ADMIN"));
    }

    @Test
    void rootInAContainerWithoutNetAdminIsRefused() {
        // CapEff with CAP_SYS_ADMIN (bit 21) but without CAP_NET_ADMIN (bit 12).
        List<String> status = List.of("Uid:\t0\t0\t0\t0", "CapEff:\t0000000000200000");
        assertThat(KernelPrerequisites.fromStatus(status)).containsExactly("no CAP_NET_ADMIN (needed for TCP_REPAIR, links, nft)");
    }

    @KernelTest
    @Test
    void aKernelTestRunsOnlyWhenNothingIsMissing() {
        assertThat(KernelPrerequisites.missing()).isEmpty();
    }
}
