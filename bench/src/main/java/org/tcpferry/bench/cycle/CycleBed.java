package org.tcpferry.bench.cycle;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.tcpferry.host.HostManager;
import org.tcpferry.host.config.DomainConfig;
import org.tcpferry.host.config.HostConfig;
import org.tcpferry.host.config.PeerConfig;
import org.tcpferry.host.config.QuotaConfig;
import org.tcpferry.host.net.Envelope;
import org.tcpferry.protocol.Message;
import org.tcpferry.rig.StandardTopology;

/**
 * The namespace rig of the agent tests, for the benchmark: the standard topology, host manager A
 * in this process (connecting to the agent's unix socket as to a virtio-serial chardev) and the
 * agent as its own process ({@link AgentProcess}) carrying the guest namespace's connections. Closing removes all of it
 * (the rig kills what it spawned, deletes namespaces and host A's tables) and the temp dir.
 */
final class CycleBed implements AutoCloseable {
    static final String DOMAIN = "vm1";

    final StandardTopology net;
    final Path dir;
    final HostManager host;
    final AgentProcess agent;
    private final AtomicInteger orderIds = new AtomicInteger(1001);

    private CycleBed(StandardTopology net, Path dir, HostManager host, AgentProcess agent) {
        this.net = net;
        this.dir = dir;
        this.host = host;
        this.agent = agent;
    }

    static CycleBed create(String purpose, LogCapture capture) throws Exception {
        StandardTopology net = StandardTopology.create(purpose);
        // On tmpfs, as /run is in a guest: the agent journals every phase change of every connection
        // (write, rename), and on this machine's ext4 /tmp and /run that alone took seconds per 1,000.
        Path dir = Files.createTempDirectory(Path.of("/dev/shm"), "tcpferry-cycle-bench");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> { // stopped early: no journal left on tmpfs
            try {
                deleteTree(dir);
            } catch (java.io.IOException e) {
                System.err.println("cannot remove " + dir + ": " + e.getMessage());
            }
        }, "bench-dir-cleanup"));
        AgentProcess agent = null;
        try {
            QuotaConfig q = QuotaConfig.defaults();
            HostConfig config = new HostConfig("hostA-bench", dir.resolve("control.sock").toString(), PeerConfig.disabled(),
                    dir.resolve("host.secret").toString(), new QuotaConfig(q.connectionSpoolBytes(), q.domainSpoolBytes(),
                    q.memoryPerConnectionBytes(), dir.resolve("spool").toString()), null, "127.0.0.1:0",
                    List.of(new DomainConfig(DOMAIN, "6f1e1f1a-0000-4000-8000-00000000b001",
                            List.of(StandardTopology.GUEST_V4, StandardTopology.GUEST_V6 + "/128"),
                            net.hostA().file().toString(), StandardTopology.HOST_BRIDGE,
                            dir.resolve("agent.sock").toString(), "connect")));
            agent = AgentProcess.start(Path.of(System.getProperty("user.dir")), dir, dir.resolve("agent.sock"),
                    net.guest().file(), capture);
            HostManager host = HostManager.start(config);
            CycleBed bed = new CycleBed(net, dir, host, agent);
            bed.awaitConnected(capture);
            return bed;
        } catch (Exception | Error e) {
            if (agent != null) {
                agent.close();
            }
            net.close();
            deleteTree(dir);
            throw e;
        }
    }

    long agentPid() {
        return agent.pid();
    }

    /** Host A connected and the agent answered its Hello. */
    void awaitConnected(LogCapture capture) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (host.endpoints().guestChannel(DOMAIN) == null || capture.latest("hello", 0) == null) {
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("host A did not connect to the agent");
            }
            Thread.sleep(20);
        }
    }

    /** Sends {@code order} from host A to the agent, as the host's own logic would. */
    void order(Message order) throws Exception {
        host.endpoints().guestChannel(DOMAIN).writeAndFlush(new Envelope(orderIds.getAndAdd(2), order)).sync();
    }

    long spooledBytes() {
        return host.domain(DOMAIN).quota().used();
    }

    @Override
    public void close() throws Exception {
        Exception failure = null;
        try {
            agent.close();
            // Let the guest channel go before host A closes (Endpoints.close waits under a lock its close listener needs).
            long deadline = System.currentTimeMillis() + 10_000;
            while (host.endpoints().guestChannel(DOMAIN) != null && System.currentTimeMillis() < deadline) {
                Thread.sleep(20);
            }
            host.close();
        } catch (Exception e) {
            failure = e;
        }
        net.close();
        deleteTree(dir);
        if (failure != null) {
            throw failure;
        }
    }

    private static void deleteTree(Path dir) throws java.io.IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
