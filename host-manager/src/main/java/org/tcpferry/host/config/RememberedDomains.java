package org.tcpferry.host.config;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * The domains this host learned from libvirt rather than from its config, written down in the
 * state directory, one file each. Why: copies outlive a host manager's restart (the fd keeper), but
 * libvirt may have forgotten their domain by then. With the default placement the source host holds
 * the copies of a guest that migrated away, and a transient domain that leaves a host is gone from
 * that host's libvirt: without this record a restarted host manager could not say which bridge,
 * addresses and uuid those copies belong to and would have to drop them.
 */
public final class RememberedDomains {
    private static final ObjectMapper JSON = ConfigLoader.mapperFor("domain.json");
    private final Path dir;

    public RememberedDomains(Path dir) {
        this.dir = dir;
    }

    /** The record kept beside the spool ({@code quotas.spoolDir}/domains): state the host manager owns. */
    public static RememberedDomains of(HostConfig config) {
        return new RememberedDomains(Path.of(config.quotas().spoolDir()).resolve("domains"));
    }

    /** Writes {@code domain} down, replacing an older record of the same name whole (never half-written). */
    public void remember(DomainConfig domain) throws IOException {
        Files.createDirectories(dir);
        Path file = fileOf(domain.name());
        Path partial = dir.resolve(file.getFileName() + ".partial");
        Files.write(partial, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(domain));
        Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The domain last written down under {@code name}, if any. */
    public Optional<DomainConfig> recall(String name) throws IOException {
        Path file = fileOf(name);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(file.toFile(), DomainConfig.class));
        } catch (IOException | RuntimeException e) {
            throw new IOException("the remembered domain " + file + " is unreadable: " + e.getMessage(), e);
        }
    }

    private Path fileOf(String name) {
        // Domain names may hold characters a file name must not ('/'); encoded, each maps to one file.
        return dir.resolve(URLEncoder.encode(name, StandardCharsets.UTF_8) + ".json");
    }
}
