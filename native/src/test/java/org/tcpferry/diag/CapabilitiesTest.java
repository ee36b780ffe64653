package org.tcpferry.diag;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The capability probe on this machine, and the parsers it uses on captured text. */
class CapabilitiesTest {

    @Test
    void probeAsRootFindsEverythingUsable() throws IOException {
        CapabilityReport report = Capabilities.probe(); // the first one includes class loading and JNA binding
        long best = Long.MAX_VALUE;
        for (int round = 0; round < 5; round++) {
            long start = System.nanoTime();
            report = Capabilities.probe();
            best = Math.min(best, System.nanoTime() - start);
        }
        System.out.printf("probe took %.2f ms (best of 5)%n%s%n", best / 1e6, report);
        assumeTrue(report.root(), "these expectations hold for root");

        assertThat(report.netAdmin()).isTrue();
        assertThat(report.tcpRepairUsable()).as(report.check(Feature.TCP_REPAIR).detail()).isTrue();
        assertThat(report.sockDiagUsable()).as(report.check(Feature.SOCK_DIAG).detail()).isTrue();
        assertThat(report.pidfdAvailable()).as(report.check(Feature.PIDFD).detail()).isTrue();
        assertThat(report.cgroup2Mount()).hasValueSatisfying(
                mount -> assertThat(mount.resolve("cgroup.procs")).isRegularFile());
        assertThat(report.nftBinary()).hasValueSatisfying(nft -> assertThat(nft).isExecutable());
        assertThat(report.missing()).isEmpty();
        assertThat(report.toString()).contains("TCP_REPAIR").doesNotContain("MISSING");
    }

    @Test
    void cgroup2MountIsTheOneInMountinfo() throws IOException {
        Path expected = Path.of(Files.exists(Path.of("/sys/fs/cgroup/unified/cgroup.procs"))
                ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup");
        assertThat(Capabilities.probe().cgroup2Mount()).contains(expected);
    }

    @Test
    void missingListsOnlyWhatIsAbsentAndNeeded() {
        CapabilityReport report = new CapabilityReport(List.of(
                new Check(Feature.ROOT, false, "effective uid 1000"),
                new Check(Feature.CAP_NET_ADMIN, false, "not in CapEff 0 (bit 12)"),
                new Check(Feature.CAP_SYS_PTRACE, false, "not in CapEff 0 (bit 19)"),
                new Check(Feature.CAP_SYS_ADMIN, false, "not in CapEff 0 (bit 21)"),
                new Check(Feature.TCP_REPAIR, false, "setsockopt(fd 5, TCP_REPAIR, 1): EPERM (Operation not permitted)"),
                new Check(Feature.SOCK_DIAG, true, "dumped 3 listening sockets"),
                new Check(Feature.PIDFD, true, "pidfd_open and pidfd_getfd work"),
                new Check(Feature.CGROUP2, true, "mounted at /sys/fs/cgroup"),
                new Check(Feature.NFT, false, "no executable nft")), Path.of("/sys/fs/cgroup"), null);

        assertThat(report.missing()).hasSize(5).noneMatch(reason -> reason.startsWith("ROOT"));
        assertThat(report.missing(EnumSet.of(Feature.TCP_REPAIR, Feature.SOCK_DIAG)))
                .containsExactly("TCP_REPAIR: " + Feature.TCP_REPAIR.purpose
                        + " (setsockopt(fd 5, TCP_REPAIR, 1): EPERM (Operation not permitted))");
        assertThat(report.nftBinary()).isEmpty();
        assertThat(report.toString()).contains("MISSING  TCP_REPAIR").contains("no       ROOT");
    }

    @Test
    void parsesUidAndEffectiveCapabilities() {
        ProcStatus status = ProcStatus.parse(List.of(
                "Name:\tjava", "Uid:\t1000\t0\t0\t0", "Gid:\t0\t0\t0\t0",
                "CapInh:\t0000000000000000", "CapEff:\t0000000000001000"));
        assertThat(status.effectiveUid()).isZero();
        assertThat(status.hasCapability(ProcStatus.CAP_NET_ADMIN)).isTrue();
        assertThat(status.hasCapability(ProcStatus.CAP_SYS_ADMIN)).isFalse();
    }

    @Test
    void findsTheFirstCgroup2MountAndUnescapesIt() {
        List<String> mountinfo = List.of(
                "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
                "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
                "40 30 0:37 / /sys/fs/cgroup/my\\040cgroups rw,relatime shared:9 master:2 - cgroup2 cgroup2 rw",
                "41 30 0:38 / /other rw,relatime - cgroup2 cgroup2 rw");
        assertThat(MountInfo.firstMountOf("cgroup2", mountinfo)).contains(Path.of("/sys/fs/cgroup/my cgroups"));
        assertThat(MountInfo.firstMountOf("cgroup2", mountinfo.subList(0, 2))).isEmpty();
    }

    @Test
    void findsExecutablesInSbinEvenWithoutItInPath() {
        assertThat(Capabilities.findExecutable("sh")).isPresent();
        assertThat(Capabilities.findExecutable("no-such-binary-tcpferry")).isEmpty();
    }
}
