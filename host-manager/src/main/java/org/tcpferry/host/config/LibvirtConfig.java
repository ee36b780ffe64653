package org.tcpferry.host.config;

/**
 * libvirt integration of the host manager.
 *
 * @param uri libvirt connection URI (e.g. {@code qemu:///system}); empty (the default) turns discovery
 *     and lifecycle events off
 * @param reclaimWaitSeconds how long an automatic reclaim waits for the agent to reconnect after the
 *     guest runs again
 * @param handoffOnMigration whether this host hands a domain's connections off by itself when it sees
 *     an outgoing migration of the domain start (any client: virsh, an orchestrator), and takes them
 *     back when that migration ends with the guest still here ({@code OutgoingMigrations}); off by default
 */
public record LibvirtConfig(String uri, int reclaimWaitSeconds, boolean handoffOnMigration) {
    public LibvirtConfig {
        uri = uri == null ? "" : uri.trim();
        reclaimWaitSeconds = reclaimWaitSeconds <= 0 ? 60 : reclaimWaitSeconds;
    }

    public static LibvirtConfig off() {
        return new LibvirtConfig("", 0, false);
    }

    public boolean enabled() {
        return !uri.isEmpty();
    }
}
