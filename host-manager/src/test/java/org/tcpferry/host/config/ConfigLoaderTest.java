package org.tcpferry.host.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    @Test
    void emptyConfigGetsEveryDocumentedDefault() throws IOException {
        HostConfig config = ConfigLoader.load(write("host.json", "{}"));
        assertThat(config.controlSocket()).isEqualTo("/run/tcpferry/control.sock");
        assertThat(config.secretFile()).isEqualTo("/etc/tcpferry/host.secret");
        assertThat(config.quotas().connectionSpoolBytes()).isEqualTo(64L << 20);
        assertThat(config.quotas().domainSpoolBytes()).isEqualTo(1L << 30);
        assertThat(config.quotas().memoryPerConnectionBytes()).isEqualTo(8L << 20);
        assertThat(config.quotas().spoolDir()).isEqualTo("/var/lib/tcpferry/spool");
        assertThat(config.peer().enabled()).isFalse();
        assertThat(config.metricsListen()).isEmpty();
        assertThat(config.steering().mark()).isEqualTo(0x7466);
        assertThat(config.steering().copyMark()).isEqualTo(0x7467);
        assertThat(config.domains()).isEmpty();
        assertThat(config.node()).isNotBlank();
    }

    @Test
    void libvirtSectionWithItsDefaults() throws IOException {
        assertThat(ConfigLoader.load(write("off.json", "{}")).libvirt().handoffOnMigration()).isFalse();
        HostConfig config = ConfigLoader.load(write("on.yaml", """
                libvirt: { uri: "qemu:///system", handoffOnMigration: true }
                """));
        assertThat(config.libvirt().enabled()).isTrue();
        assertThat(config.libvirt().handoffOnMigration()).isTrue();
        assertThat(config.libvirt().reclaimWaitSeconds()).isEqualTo(60);
    }

    @Test
    void yamlWithDomainsAndPeer() throws IOException {
        HostConfig config = ConfigLoader.load(write("host.yaml", """
                node: hv1
                peer: { listen: "127.0.0.1:7466", insecure: true }
                quotas: { connectionSpoolBytes: 1024 }
                domains:
                  - name: web1
                    uuid: 0b7a3c8e-4f0e-4c4e-9b1a-2d7f00000001
                    addresses: [192.0.2.10, "2001:db8::/64"]
                    netns: hostA
                    bridge: br0
                    channel: tcp:127.0.0.1:9000
                """));
        assertThat(config.node()).isEqualTo("hv1");
        assertThat(config.peer().insecure()).isTrue();
        assertThat(config.quotas().connectionSpoolBytes()).isEqualTo(1024);
        assertThat(config.quotas().domainSpoolBytes()).isEqualTo(1L << 30);
        DomainConfig web1 = config.domain("web1");
        assertThat(web1.netnsPath()).isEqualTo(Path.of("/run/netns/hostA"));
        assertThat(web1.channelMode()).isEqualTo("connect");
        assertThat(web1.addressSet().contains(InetAddress.getByName("192.0.2.10"))).isTrue();
        assertThat(web1.addressSet().contains(InetAddress.getByName("192.0.2.11"))).isFalse();
        assertThat(web1.addressSet().contains(InetAddress.getByName("2001:db8::99"))).isTrue();
        assertThat(web1.addressSet().contains(InetAddress.getByName("2001:db9::1"))).isFalse();
    }

    @Test
    void misspeltSettingIsAnError() throws IOException {
        Path file = write("host.json", "{\"controlSokcet\": \"/tmp/x\"}");
        assertThatThrownBy(() -> ConfigLoader.load(file)).hasMessageContaining("controlSokcet");
    }

    @Test
    void peerWithoutTlsFilesNeedsInsecure() throws IOException {
        Path file = write("host.json", "{\"peer\": {\"listen\": \"0.0.0.0:7466\"}}");
        assertThatThrownBy(() -> ConfigLoader.load(file)).hasMessageContaining("peer.cert");
    }

    @Test
    void domainNeedsUuidAndBridgeAndValidAddresses() {
        assertThatThrownBy(() -> new DomainConfig("a", null, List.of(), null, "br0", null, null)).hasMessageContaining("uuid");
        assertThatThrownBy(() -> new DomainConfig("a", "u", List.of(), null, null, null, null)).hasMessageContaining("bridge");
        assertThatThrownBy(() -> new DomainConfig("a", "u", List.of("example.com"), null, "br0", null, null))
                .hasMessageContaining("not an IP address");
        assertThatThrownBy(() -> new DomainConfig("a", "u", List.of("10.0.0.0/33"), null, "br0", null, null))
                .hasMessageContaining("prefix length");
    }

    @Test
    void otherExtensionsAreRefused() throws IOException {
        Path file = write("host.toml", "");
        assertThatThrownBy(() -> ConfigLoader.load(file)).hasMessageContaining(".json, .yaml or .yml");
    }

    @Test
    void steeringMarksMustDiffer() {
        assertThatThrownBy(() -> new SteeringConfig(5, 5, null, null)).hasMessageContaining("differ");
    }

    private Path write(String name, String text) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, text);
        return file;
    }
}
