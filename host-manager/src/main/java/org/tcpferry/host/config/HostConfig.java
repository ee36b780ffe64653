package org.tcpferry.host.config;

import java.util.List;

/**
 * The host manager's whole configuration, read by {@link ConfigLoader}. Every field has a
 * default (see docs/host-manager.md) so that a file only states what differs.
 *
 * @param node this host's name in logs, status and metrics
 * @param controlSocket path of the root-only (0600) unix socket the CLI talks to
 * @param peer the TCP endpoint other host managers reach during a migration
 * @param secretFile the host secret that tokens are signed with; created 0600 if absent
 * @param quotas spool limits
 * @param steering marks and routing table used to divert flows to the copies
 * @param metricsListen {@code host:port} of the Prometheus text endpoint, empty to disable
 * @param domains the guests this host holds connections for
 * @param libvirt discovery of domains and lifecycle events from libvirt; off by default
 * @param fdKeeperSocket where the fd keeper listens, which keeps held copies alive across a restart
 *     of the host manager (started by the host manager if none listens); empty to run without
 */
public record HostConfig(
        String node,
        String controlSocket,
        PeerConfig peer,
        String secretFile,
        QuotaConfig quotas,
        SteeringConfig steering,
        String metricsListen,
        List<DomainConfig> domains,
        LibvirtConfig libvirt,
        String fdKeeperSocket) {

    public static final String DEFAULT_CONTROL_SOCKET = "/run/tcpferry/control.sock";
    public static final String DEFAULT_SECRET_FILE = "/etc/tcpferry/host.secret";
    public static final String DEFAULT_FD_KEEPER_SOCKET = "/run/tcpferry/fd-keeper.sock";

    public HostConfig {
        node = node == null || node.isBlank() ? defaultNodeName() : node;
        controlSocket = controlSocket == null ? DEFAULT_CONTROL_SOCKET : controlSocket;
        peer = peer == null ? PeerConfig.disabled() : peer;
        secretFile = secretFile == null ? DEFAULT_SECRET_FILE : secretFile;
        quotas = quotas == null ? QuotaConfig.defaults() : quotas;
        steering = steering == null ? SteeringConfig.defaults() : steering;
        metricsListen = metricsListen == null ? "" : metricsListen;
        domains = domains == null ? List.of() : List.copyOf(domains);
        libvirt = libvirt == null ? LibvirtConfig.off() : libvirt;
        fdKeeperSocket = fdKeeperSocket == null ? DEFAULT_FD_KEEPER_SOCKET : fdKeeperSocket;
        long distinct = domains.stream().map(DomainConfig::name).distinct().count();
        if (distinct != domains.size()) {
            throw new IllegalArgumentException("two domains have the same name");
        }
    }

    /** Without libvirt integration (the form before it existed; tests and benchmarks use it). */
    public HostConfig(String node, String controlSocket, PeerConfig peer, String secretFile, QuotaConfig quotas,
            SteeringConfig steering, String metricsListen, List<DomainConfig> domains) {
        this(node, controlSocket, peer, secretFile, quotas, steering, metricsListen, domains, null, "");
    }

    /** Without an fd keeper: held connections die with the host manager (in-process tests). */
    public HostConfig(String node, String controlSocket, PeerConfig peer, String secretFile, QuotaConfig quotas,
            SteeringConfig steering, String metricsListen, List<DomainConfig> domains, LibvirtConfig libvirt) {
        this(node, controlSocket, peer, secretFile, quotas, steering, metricsListen, domains, libvirt, "");
    }

    /** This configuration with {@code domains} instead of its own (discovery adds libvirt's). */
    public HostConfig withDomains(List<DomainConfig> domains) {
        return new HostConfig(node, controlSocket, peer, secretFile, quotas, steering, metricsListen, domains, libvirt,
                fdKeeperSocket);
    }

    /** The domain called {@code name}, or null. */
    public DomainConfig domain(String name) {
        return domains.stream().filter(d -> d.name().equals(name)).findFirst().orElse(null);
    }

    private static String defaultNodeName() {
        String host = System.getenv("HOSTNAME");
        if (host != null && !host.isBlank()) {
            return host;
        }
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "localhost";
        }
    }
}
