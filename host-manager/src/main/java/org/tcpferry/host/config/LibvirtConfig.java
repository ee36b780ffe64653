package org.tcpferry.host.config;

/**
 * libvirt integration of the host manager.
 *
 * @param uri libvirt connection URI (e.g. {@code qemu:///system}); empty (the default) turns discovery
 *     and lifecycle events off
 * @param reclaimWaitSeconds how long an automatic reclaim waits for the agent to reconnect after the
 *     guest runs again
 */
public record LibvirtConfig(String uri, int reclaimWaitSeconds) {
    public LibvirtConfig {
        uri = uri == null ? "" : uri.trim();
        reclaimWaitSeconds = reclaimWaitSeconds <= 0 ? 60 : reclaimWaitSeconds;
    }

    public static LibvirtConfig off() {
        return new LibvirtConfig("", 0);
    }

    public boolean enabled() {
        return !uri.isEmpty();
    }
}
