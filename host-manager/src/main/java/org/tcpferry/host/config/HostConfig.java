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
 * @param peers other host managers this one relays releases and handoffs to, by node name
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
        List<PeerAddress> peers) {

    public static final String DEFAULT_CONTROL_SOCKET = "/run/tcpferry/control.sock";
    public static final String DEFAULT_SECRET_FILE = "/etc/tcpferry/host.secret";

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
        peers = peers == null ? List.of() : List.copyOf(peers);
        if (peers.stream().map(PeerAddress::node).distinct().count() != peers.size()) {
            throw new IllegalArgumentException("two peers have the same node name");
        }
        if (!peers.isEmpty() && !peer.insecure() && peer.cert() == null) {
            throw new IllegalArgumentException("peers need peer.cert, peer.key and peer.trust for mutual TLS"
                    + " (or peer.insecure: true on a test machine)");
        }
        long distinct = domains.stream().map(DomainConfig::name).distinct().count();
        if (distinct != domains.size()) {
            throw new IllegalArgumentException("two domains have the same name");
        }
    }

    /** Without libvirt integration (the form before it existed; tests and benchmarks use it). */
    public HostConfig(String node, String controlSocket, PeerConfig peer, String secretFile, QuotaConfig quotas,
            SteeringConfig steering, String metricsListen, List<DomainConfig> domains) {
        this(node, controlSocket, peer, secretFile, quotas, steering, metricsListen, domains, null, null);
    }

    /** Without peers to relay to (the form before relaying existed). */
    public HostConfig(String node, String controlSocket, PeerConfig peer, String secretFile, QuotaConfig quotas,
            SteeringConfig steering, String metricsListen, List<DomainConfig> domains, LibvirtConfig libvirt) {
        this(node, controlSocket, peer, secretFile, quotas, steering, metricsListen, domains, libvirt, null);
    }

    /** This configuration with {@code domains} instead of its own (discovery adds libvirt's). */
    public HostConfig withDomains(List<DomainConfig> domains) {
        return new HostConfig(node, controlSocket, peer, secretFile, quotas, steering, metricsListen, domains, libvirt,
                peers);
    }

    /** This configuration with {@code peers} instead of its own. */
    public HostConfig withPeers(List<PeerAddress> peers) {
        return new HostConfig(node, controlSocket, peer, secretFile, quotas, steering, metricsListen, domains, libvirt,
                peers);
    }

    /**
     * The peer whose node name is {@code nameOrHost}, else the one whose address has that host part
     * ({@code --hold-on target} knows the destination only from its libvirt URI), or null.
     */
    public PeerAddress peerFor(String nameOrHost) {
        PeerAddress named = peerNamed(nameOrHost);
        if (named != null) {
            return named;
        }
        return peers.stream().filter(p -> p.address().substring(0, p.address().lastIndexOf(':'))
                .replace("[", "").replace("]", "").equals(nameOrHost)).findFirst().orElse(null);
    }

    /** The peer called {@code node}, or null. */
    public PeerAddress peerNamed(String node) {
        return peers.stream().filter(p -> p.node().equals(node)).findFirst().orElse(null);
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
