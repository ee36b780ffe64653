package org.tcpferry.rig;

import io.netty.channel.Channel;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.tcpferry.host.HostManager;
import org.tcpferry.host.config.DomainConfig;
import org.tcpferry.host.config.HostConfig;
import org.tcpferry.host.config.PeerAddress;
import org.tcpferry.host.config.PeerConfig;
import org.tcpferry.host.config.QuotaConfig;

/**
 * Host managers A and B of a {@link StandardTopology} for one domain, in this JVM: each steers on
 * its host namespace's bridge, serves a plaintext peer endpoint on loopback and has the other as its
 * one peer, so a guest that moves reclaims through host B's relay. The guest's channel is the
 * agent's listening unix socket; each host reaches it through a link of its own, and a move
 * removes host A's link as a migration removes the source's end of a virtio-serial port.
 */
public final class HostPair implements AutoCloseable {
    public static final String HOSTA = "hostA-test";
    public static final String HOSTB = "hostB-test";
    private static final String HOSTA_CHANNEL = "hostA-channel.sock";
    private static final String HOSTB_CHANNEL = "hostB-channel.sock";

    private final StandardTopology net;
    private final Path dir;
    private final Path agentSocket;
    private final String domain;
    private HostConfig configA;
    private final HostConfig configB;
    private HostManager hostA;
    private HostManager hostB;
    private boolean moved;

    private HostPair(StandardTopology net, Path dir, Path agentSocket, String domain, HostConfig configA,
            HostConfig configB) {
        this.net = net;
        this.dir = dir;
        this.agentSocket = agentSocket;
        this.domain = domain;
        this.configA = configA;
        this.configB = configB;
    }

    /**
     * Starts host A for {@code domain} (its addresses are the topology's guest addresses, its MAC
     * the guest's); host B is configured and starts on {@link #startHostB} or {@link #moveGuestToHostB}.
     *
     * @param dir where the control sockets, secrets, spools and channel links go
     * @param agentSocket the agent's listening socket (it need not exist yet)
     */
    public static HostPair start(StandardTopology net, Path dir, String domain, String uuid, Path agentSocket)
            throws IOException {
        HostPair pair = create(net, dir, domain, uuid, agentSocket, PLAINTEXT_PEERS);
        pair.startHostA();
        return pair;
    }

    /** Plaintext peer endpoints for every node (both hosts are on this machine's loopback). */
    public static final java.util.function.Function<String, PeerConfig> PLAINTEXT_PEERS =
            node -> new PeerConfig("", null, null, null, true);

    /**
     * Both hosts configured, neither started: {@link #startHostA} (or run host A as a process with
     * {@link #configA}), {@link #startHostB}. {@code tls} gives each host's peer endpoint and links
     * to the other by node name: {@link #PLAINTEXT_PEERS}, or mutual TLS.
     */
    public static HostPair create(StandardTopology net, Path dir, String domain, String uuid, Path agentSocket,
            java.util.function.Function<String, PeerConfig> tls) throws IOException {
        int peerPortA = freePort();
        int peerPortB = freePort();
        Files.createSymbolicLink(dir.resolve(HOSTA_CHANNEL), agentSocket);
        DomainConfig onA = domain(domain, uuid, net.hostA().file(), dir.resolve(HOSTA_CHANNEL));
        DomainConfig onB = domain(domain, uuid, net.hostB().file(), dir.resolve(HOSTB_CHANNEL));
        HostConfig configA = config(HOSTA, dir.resolve("a"), onA, listen(tls.apply(HOSTA), peerPortA), HOSTB, peerPortB);
        HostConfig configB = config(HOSTB, dir.resolve("b"), onB, listen(tls.apply(HOSTB), peerPortB), HOSTA, peerPortA);
        return new HostPair(net, dir, agentSocket, domain, configA, configB);
    }

    /** Changes host A's configuration before it starts (e.g. an fd keeper for a host A run as a process). */
    public void configureA(java.util.function.UnaryOperator<HostConfig> change) {
        if (hostA != null) {
            throw new IllegalStateException("host A already runs");
        }
        configA = change.apply(configA);
    }

    /** Starts host A's manager in this JVM. */
    public void startHostA() throws IOException {
        if (hostA == null) {
            hostA = HostManager.start(configA);
        }
    }


    /** {@code peer} listening on loopback at {@code port}. */
    private static PeerConfig listen(PeerConfig peer, int port) {
        return new PeerConfig("127.0.0.1:" + port, peer.cert(), peer.key(), peer.trust(), peer.insecure());
    }

    private static DomainConfig domain(String name, String uuid, Path netns, Path channel) {
        return new DomainConfig(name, uuid, List.of(StandardTopology.GUEST_V4, StandardTopology.GUEST_V6 + "/128"),
                netns.toString(), StandardTopology.HOST_BRIDGE, channel.toString(), "connect",
                List.of(StandardTopology.GUEST_MAC));
    }

    private static HostConfig config(String node, Path dir, DomainConfig domain, PeerConfig peer, String otherNode,
            int otherPort) throws IOException {
        Files.createDirectories(dir);
        QuotaConfig q = QuotaConfig.defaults();
        return new HostConfig(node, dir.resolve("control.sock").toString(), peer, dir.resolve("host.secret").toString(),
                new QuotaConfig(q.connectionSpoolBytes(), q.domainSpoolBytes(), q.memoryPerConnectionBytes(),
                        dir.resolve("spool").toString()), null, "127.0.0.1:0", List.of(domain), null,
                List.of(new PeerAddress(otherNode, "127.0.0.1:" + otherPort)));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Host A's manager in this JVM, or null when it was not started here. */
    public HostManager hostA() {
        return hostA;
    }

    /** Host B's manager, or null before {@link #startHostB}. */
    public HostManager hostB() {
        return hostB;
    }

    public HostConfig configA() {
        return configA;
    }

    public HostConfig configB() {
        return configB;
    }

    /** The host whose manager the guest's channel reaches: host B after the move, else host A. */
    public HostManager current() {
        return moved ? hostB : hostA;
    }

    public void startHostB() throws IOException {
        if (hostB == null) {
            hostB = HostManager.start(configB);
        }
    }

    /**
     * Host B's manager stopped as the daemon stops ({@link HostManager#stop}: with an fd keeper and
     * connections held, their copies stay with the keeper, steered); {@link #restartHostB} starts it again.
     */
    public void stopHostBLeavingCopies() throws IOException {
        if (hostB != null) {
            hostB.stop(false);
            hostB = null;
        }
    }

    /** Host B's manager stopped and started again with {@code config}; the agent reconnects to it. */
    public void restartHostB(HostConfig config) throws IOException {
        if (hostB != null) {
            hostB.close();
        }
        hostB = HostManager.start(config);
    }

    /**
     * The guest moves to host B as a VM does: host B's end of the channel exists first (libvirt
     * starts the destination's QEMU before the switch-over), then host A loses its end for good,
     * the guest's port moves to host B's bridge and announces it. The copies stay where they are.
     */
    public void moveGuestToHostB() throws IOException, InterruptedException {
        startHostB();
        Files.createSymbolicLink(dir.resolve(HOSTB_CHANNEL), agentSocket);
        await(() -> hostB.endpoints().guestChannel(domain) != null, 20_000, "host B to reach the channel");
        Files.delete(dir.resolve(HOSTA_CHANNEL));
        Channel a = hostA == null ? null : hostA.endpoints().guestChannel(domain);
        if (a != null) {
            a.close().sync();
        }
        net.migrateGuest();
        moved = true;
    }

    /** Polls {@code condition} every 20 ms; a {@link RigException} naming {@code what} after the timeout. */
    public static void await(BooleanSupplier condition, long timeoutMillis, String what) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new RigException("timed out after " + timeoutMillis + " ms waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            if (hostA != null) {
                hostA.close();
            }
        } finally {
            if (hostB != null) {
                hostB.close();
            }
        }
    }
}
