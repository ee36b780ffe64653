package org.tcpferry.host.libvirt;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tcpferry.host.config.ConfigLoader;
import org.tcpferry.host.config.DomainConfig;
import org.tcpferry.host.config.HostConfig;

/** Configured and discovered domains combined: the config overrides, libvirt fills gaps. */
class DomainMergeTest {
    private static DiscoveredDomain discovered(String name, String socket, List<String> addresses) {
        return new DiscoveredDomain(name, "uuid-" + name, true, List.of(new DomainInterface("52:54:00:00:00:01", "br0")),
                socket, addresses);
    }

    @Test
    void configOverridesAndLibvirtFillsEmptyFields() {
        DomainConfig configured = new DomainConfig("web1", "cfg-uuid", List.of(), "ns1", "brX", "", null);
        List<DomainConfig> merged = DomainMerge.merge(List.of(configured),
                List.of(discovered("web1", "/run/web1.sock", List.of("10.0.0.5"))));
        assertThat(merged).containsExactly(new DomainConfig("web1", "cfg-uuid", List.of("10.0.0.5"), "ns1", "brX",
                "/run/web1.sock", "connect", List.of("52:54:00:00:00:01")));
    }

    @Test
    void onlyDomainsSetUpForTcpferryAreAdded() {
        List<DomainConfig> merged = DomainMerge.merge(List.of(), List.of(discovered("a", "/run/a.sock", List.of("10.0.0.7")),
                discovered("b", "", List.of())));
        assertThat(merged).extracting(DomainConfig::name).containsExactly("a");
        assertThat(merged.get(0).bridge()).isEqualTo("br0");
        assertThat(merged.get(0).uuid()).isEqualTo("uuid-a");
    }

    @Test
    void libvirtIsOffUnlessConfigured(@TempDir Path dir) throws Exception {
        Path off = Files.writeString(dir.resolve("off.yaml"), "node: n\n");
        assertThat(ConfigLoader.load(off).libvirt().enabled()).isFalse();
        Path on = Files.writeString(dir.resolve("on.yaml"), "node: n\nlibvirt: { uri: \"qemu:///system\" }\n");
        HostConfig config = ConfigLoader.load(on);
        assertThat(config.libvirt().uri()).isEqualTo("qemu:///system");
        assertThat(config.libvirt().reclaimWaitSeconds()).isEqualTo(60);
    }
}
