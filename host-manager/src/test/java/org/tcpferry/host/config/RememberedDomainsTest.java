package org.tcpferry.host.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RememberedDomainsTest {
    @TempDir
    Path dir;

    @Test
    void aDomainWrittenDownIsRecalledWhole() throws IOException {
        RememberedDomains memory = new RememberedDomains(dir.resolve("domains"));
        DomainConfig web = new DomainConfig("web/1", "0b7a3c8e-4f0e-4c4e-9b1a-2d7f00000001",
                List.of("192.0.2.10", "2001:db8::10/128"), "", "br0", "/var/lib/libvirt/qemu/web.org.tcpferry.agent.0",
                "connect", List.of("52:54:00:aa:bb:cc"));
        assertThat(memory.recall("web/1")).isEmpty();
        memory.remember(web);
        memory.remember(web); // again: replaced, not appended
        assertThat(memory.recall("web/1")).contains(web);
        assertThat(memory.recall("web")).isEmpty();
        try (var files = Files.list(dir.resolve("domains"))) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("web%2F1.json");
        }
    }

    @Test
    void aDamagedRecordIsAnErrorNamingTheFile() throws IOException {
        Files.createDirectories(dir.resolve("domains"));
        Files.writeString(dir.resolve("domains/web.json"), "{ not json");
        assertThatThrownBy(() -> new RememberedDomains(dir.resolve("domains")).recall("web"))
                .isInstanceOf(IOException.class).hasMessageContaining("web.json");
    }
}
