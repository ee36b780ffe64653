package org.tcpferry.tests.agent;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.tcpferry.agent.core.Agent;
import org.tcpferry.agent.core.AgentConfig;
import org.tcpferry.agent.core.Carried;
import org.tcpferry.agent.core.Phase;
import org.tcpferry.host.HostManager;
import org.tcpferry.host.config.DomainConfig;
import org.tcpferry.host.config.HostConfig;
import org.tcpferry.host.config.PeerAddress;
import org.tcpferry.host.config.PeerConfig;
import org.tcpferry.host.config.QuotaConfig;
import org.tcpferry.host.net.Envelope;
import org.tcpferry.protocol.ControlCommand;
import org.tcpferry.protocol.ControlReply;
import org.tcpferry.protocol.FrameStreams;
import org.tcpferry.protocol.Hello;
import org.tcpferry.protocol.HelloReply;
import org.tcpferry.protocol.Message;
import org.tcpferry.protocol.MessageCodec;
import org.tcpferry.rig.Namespace;
import org.tcpferry.rig.StandardTopology;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.SockAddr;
import org.tcpferry.sys.SockOpt;

/**
 * The rig for agent tests: a standard topology, host manager A (in-process, connecting to the
 * agent's unix socket as to a virtio-serial chardev), an in-process {@link Agent} whose socket
 * work runs in the guest namespace, and guest applications as separate {@link EchoApp} processes
 * in the guest namespace, each connection echoed to a {@link PeerEcho} in the peer namespace.
 * Closing removes everything (processes by the rig, namespaces, host A's tables, the temp dir).
 */
final class AgentBed implements AutoCloseable {
    static final String DOMAIN = "vm1";
    static final String HOSTA = "hostA-test";
    static final String HOSTB = "hostB-test";
    /** The agent's listening socket, played as the guest end of a virtio-serial port. */
    static final String AGENT_SOCKET = "agent.sock";
    private static final String HOSTA_CHANNEL = "hostA-channel.sock";
    private static final String HOSTB_CHANNEL = "hostB-channel.sock";

    final StandardTopology net;
    final Path dir;
    final HostConfig hostConfig;
    final HostConfig hostConfigB;
    HostManager hostA;
    /** Host B's manager, once {@link #startHostB} or {@link #moveToHostB} ran. */
    HostManager hostB;
    private boolean moved;
    Agent agent;
    /** Ids for orders sent straight down host A's channel, far above the host's own odd ids. */
    private final AtomicInteger orderIds = new AtomicInteger(0x40000001);
    private final List<App> apps = new ArrayList<>();
    private final List<PeerEcho> peers = new ArrayList<>();
    private final List<NativeSocket> listeners = new ArrayList<>();

    private AgentBed(StandardTopology net, Path dir, HostConfig hostConfig, HostConfig hostConfigB) {
        this.net = net;
        this.dir = dir;
        this.hostConfig = hostConfig;
        this.hostConfigB = hostConfigB;
    }

    static AgentBed create(String purpose) throws Exception {
        return create(purpose, true);
    }

    /**
     * @param inProcess an {@link Agent} in this JVM; otherwise {@code bin/tcpferry-agent} runs as a
     *     process of its own ({@link #agentProcess}), as in a guest
     */
    static AgentBed create(String purpose, boolean inProcess) throws Exception {
        StandardTopology net = StandardTopology.create(purpose);
        Path dir = Files.createTempDirectory("tcpferry-agent-test");
        try {
            int peerPortA = freePort();
            int peerPortB = freePort();
            // Host A reaches the agent through a link to its socket, which a move to host B removes:
            // as after a migration, host A can no longer connect to the guest's channel.
            Files.createSymbolicLink(dir.resolve(HOSTA_CHANNEL), dir.resolve(AGENT_SOCKET));
            HostConfig config = hostConfig(HOSTA, dir.resolve("a"), net.hostA().file(), dir.resolve(HOSTA_CHANNEL),
                    peerPortA, HOSTB, peerPortB);
            HostConfig configB = hostConfig(HOSTB, dir.resolve("b"), net.hostB().file(), dir.resolve(HOSTB_CHANNEL),
                    peerPortB, HOSTA, peerPortA);
            AgentBed bed = new AgentBed(net, dir, config, configB);
            if (inProcess) {
                bed.agent = Agent.start(bed.agentConfig());
            } else {
                bed.spawnAgent();
            }
            bed.hostA = HostManager.start(config);
            bed.awaitConnected();
            return bed;
        } catch (Exception | Error e) {
            net.close();
            deleteTree(dir);
            throw e;
        }
    }

    /**
     * A host manager for domain {@value #DOMAIN} whose bridge is in {@code netns}, with a plaintext
     * peer endpoint on loopback and the other host as its one peer (both on this machine).
     */
    private static HostConfig hostConfig(String node, Path dir, Path netns, Path channel, int peerPort, String otherNode,
            int otherPort) throws IOException {
        Files.createDirectories(dir);
        QuotaConfig q = QuotaConfig.defaults();
        return new HostConfig(node, dir.resolve("control.sock").toString(),
                new PeerConfig("127.0.0.1:" + peerPort, null, null, null, true), dir.resolve("host.secret").toString(),
                new QuotaConfig(q.connectionSpoolBytes(), q.domainSpoolBytes(), q.memoryPerConnectionBytes(),
                        dir.resolve("spool").toString()), null, "127.0.0.1:0",
                List.of(new DomainConfig(DOMAIN, "6f1e1f1a-0000-4000-8000-00000000a001",
                        List.of(StandardTopology.GUEST_V4, StandardTopology.GUEST_V6 + "/128"), netns.toString(),
                        StandardTopology.HOST_BRIDGE, channel.toString(), "connect", List.of(StandardTopology.GUEST_MAC))),
                null, List.of(new PeerAddress(otherNode, "127.0.0.1:" + otherPort)));
    }

    private static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Starts host B's manager (the guest's channel reaches it only after {@link #moveToHostB}). */
    void startHostB() throws Exception {
        if (hostB == null) {
            hostB = HostManager.start(hostConfigB);
        }
    }

    /**
     * The guest moves to host B as a VM does: its port moves to host B's bridge and announces it,
     * host A loses the guest's channel for good and host B gets it. The copies stay where they are.
     */
    void moveToHostB() throws Exception {
        startHostB();
        // Host B's end of the channel exists before the guest runs there (libvirt starts the
        // destination's QEMU first): host B connects and waits for the agent, which still talks to A.
        Files.createSymbolicLink(dir.resolve(HOSTB_CHANNEL), dir.resolve(AGENT_SOCKET));
        AgentBed.await(() -> hostB.endpoints().guestChannel(DOMAIN) != null, 20_000, "host B to reach the channel");
        Files.delete(dir.resolve(HOSTA_CHANNEL));
        io.netty.channel.Channel a = hostA.endpoints().guestChannel(DOMAIN);
        if (a != null) {
            a.close().sync();
        }
        net.migrateGuest();
        moved = true;
        await(() -> hostB.endpoints().guestChannel(DOMAIN) != null && (agent == null || (agent.session() != null
                && HOSTB.equals(agent.session().peerNode()))), 20_000, "host B connected to the agent");
    }

    AgentConfig agentConfig() {
        return new AgentConfig("unix:" + dir.resolve(AGENT_SOCKET), dir.resolve("journal"), "guest-test", "",
                net.guest().file(), true);
    }

    /** Starts a fresh agent on the same journal and channel, as after a restart. */
    void restartAgent() throws Exception {
        agent.close();
        agent = Agent.start(agentConfig());
        awaitConnected();
    }

    void awaitConnected() throws Exception {
        HostManager host = currentHost();
        await(() -> (agent == null || agent.session() != null) && host.endpoints().guestChannel(DOMAIN) != null, 20_000,
                host.config().node() + " connected to the agent");
    }

    /** The host whose manager the guest's channel reaches: host B after {@link #moveToHostB}, else host A. */
    HostManager currentHost() {
        return moved ? hostB : hostA;
    }

    /** Host B's manager, stopped and started again with {@code config} (the agent reconnects to it). */
    void restartHostB(HostConfig config) throws Exception {
        if (hostB != null) {
            hostB.close();
        }
        hostB = HostManager.start(config);
    }

    /** The agent as a process: {@code bin/tcpferry-agent run} with this bed's channel and journal. */
    Process agentProcess;

    void spawnAgent() throws IOException {
        Path script = Path.of("..", "bin", "tcpferry-agent").toAbsolutePath().normalize();
        agentProcess = new ProcessBuilder(script.toString(), "run", "--channel", "unix:" + dir.resolve(AGENT_SOCKET),
                "--journal", dir.resolve("journal").toString(), "--node", "guest-process",
                "--netns", net.guest().file().toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("agent.log").toFile()).start();
    }

    /** kill -9 of the agent process. */
    void killAgent() throws Exception {
        agentProcess.destroyForcibly();
        agentProcess.waitFor(10, TimeUnit.SECONDS);
    }

    /** The connections host A holds for the domain now. */
    int heldByHostA() {
        return held(hostA);
    }

    /**
     * What a user checks at the end: every connection CONFORMED, nothing held on either host, the
     * applications' descriptors unchanged, no peer error, both streams byte-exact.
     */
    void assertAllBackAndNothingHeld(App... apps) throws Exception {
        for (org.tcpferry.agent.core.CarriedReport r : agent.reports()) {
            System.out.println("carried " + r);
            org.assertj.core.api.Assertions.assertThat(r.phase()).isEqualTo(Phase.CONFORMED);
        }
        org.assertj.core.api.Assertions.assertThat(heldByHostA()).as("held by host A").isZero();
        if (hostB != null) {
            org.assertj.core.api.Assertions.assertThat(held(hostB)).as("held by host B").isZero();
        }
        for (App app : apps) {
            org.assertj.core.api.Assertions.assertThat(app.sockets()).as("same descriptors")
                    .containsAllEntriesOf(app.socketsBefore);
            org.assertj.core.api.Assertions.assertThat(app.peers)
                    .allSatisfy(p -> org.assertj.core.api.Assertions.assertThat(p.failure()).isNull());
            System.out.println("echoed byte-exact both ways: " + app.finish(30_000));
        }
    }

    /** The connections {@code host} holds for the domain now. */
    static int held(HostManager host) {
        return host.status().path("domains").get(0).path("connections").size();
    }

    /** Sends {@code order} from host A to the agent, as the host's own logic would. */
    void order(Message order) throws Exception {
        awaitConnected();
        hostA.endpoints().guestChannel(DOMAIN).writeAndFlush(new Envelope(orderIds.getAndAdd(2), order)).sync();
    }

    /**
     * Runs a verb on host A's control socket, as {@code tcpferry handoff|reclaim domain=vm1} does,
     * and returns its reply once the agent has answered the order.
     */
    ControlReply control(String verb) throws Exception {
        return control(hostConfig, verb, Map.of("domain", DOMAIN));
    }

    /** A verb with arguments on the control socket of the host manager configured by {@code host}. */
    ControlReply control(HostConfig host, String verb, Map<String, String> args) throws Exception {
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(host.controlSocket()))) {
            OutputStream out = Channels.newOutputStream(ch);
            InputStream in = Channels.newInputStream(ch);
            FrameStreams.write(out, MessageCodec.encode(1, new Hello(Hello.CONTROL, "agent-test", "")));
            Message hello = MessageCodec.decode(FrameStreams.read(in));
            if (!(hello instanceof HelloReply)) {
                throw new AssertionError("control socket answered Hello with " + hello);
            }
            FrameStreams.write(out, MessageCodec.encode(3, new ControlCommand(verb, args)));
            while (true) {
                Message m = MessageCodec.decode(FrameStreams.read(in));
                if (m instanceof ControlReply reply) {
                    return reply;
                }
            }
        }
    }

    void awaitPhase(Phase phase, int count, long timeoutMillis) throws Exception {
        await(() -> agent.connections().size() == count && agent.connections().stream().allMatch(c -> c.phase() == phase),
                timeoutMillis, count + " connections " + phase + " (now " + phases() + ")");
    }

    void awaitAllBack(int reports, long timeoutMillis) throws Exception {
        await(() -> agent.connections().isEmpty() && agent.reports().size() >= reports, timeoutMillis,
                "all connections back (now " + phases() + ", " + agent.reports().size() + " reports)");
    }

    String phases() {
        Map<Phase, Integer> m = new TreeMap<>();
        for (Carried c : agent.connections()) {
            m.merge(c.phase(), 1, Integer::sum);
        }
        return m.toString();
    }

    /** A guest application with {@code count} connections to the peer ({@code client}) or from it ({@code server}). */
    App app(String mode, String peerIp, int port, int count, PeerSetup peer) throws Exception {
        boolean v4 = InetAddress.getByName(peerIp) instanceof java.net.Inet4Address;
        return app(mode, peerIp, v4 ? StandardTopology.GUEST_V4 : StandardTopology.GUEST_V6, port, count, peer);
    }

    /** As above, with the guest's address of a server given (client connections use the default source). */
    App app(String mode, String peerIp, String guestIp, int port, int count, PeerSetup peer) throws Exception {
        InetAddress peerAddress = InetAddress.getByName(peerIp);
        NativeSocket listener = null;
        if (mode.equals("client")) {
            listener = net.peer().netns().call(() -> {
                NativeSocket s = NativeSocket.tcp(SockAddr.family(peerAddress));
                s.setInt(SockOpt.SO_REUSEADDR, 1);
                s.bind(new InetSocketAddress(peerAddress, port));
                s.listen(4096);
                return s;
            });
            listeners.add(listener);
        }
        String classes = Path.of(EchoApp.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        String java = ProcessHandle.current().info().command().orElse("java");
        Process process = net.guest().spawn(java, "-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp", classes,
                EchoApp.class.getName(), mode, mode.equals("client") ? peerIp : guestIp, Integer.toString(port),
                Integer.toString(count));
        App app = new App(process);
        apps.add(app);
        List<NativeSocket> peerSockets = new ArrayList<>();
        if (mode.equals("client")) {
            for (int i = 0; i < count; i++) {
                peerSockets.add(listener.accept());
            }
        } else {
            app.expect("LISTENING", 20_000);
            InetSocketAddress target = new InetSocketAddress(InetAddress.getByName(guestIp), port);
            peerSockets = net.peer().netns().call(() -> {
                List<NativeSocket> list = new ArrayList<>();
                for (int i = 0; i < count; i++) {
                    NativeSocket s = NativeSocket.tcp(SockAddr.family(peerAddress));
                    s.connect(target);
                    list.add(s);
                }
                return list;
            });
        }
        app.expect("READY", 20_000);
        for (NativeSocket s : peerSockets) {
            s.describe(SockAddr.format(s.localAddress()) + "->" + SockAddr.format(s.remoteAddress()));
            peer.tune(s);
            PeerEcho echo = peer.start(s, peers.size() + 1);
            peers.add(echo);
            app.peers.add(echo);
        }
        app.socketsBefore = app.sockets();
        return app;
    }

    /** How the peer's sockets are tuned and driven. */
    interface PeerSetup {
        void tune(NativeSocket s) throws IOException;

        PeerEcho start(NativeSocket s, long seed) throws Exception;
    }

    /** TCP_USER_TIMEOUT 3 s, keepalive 1 s / 1 s / 2: gives up about 3 s after the guest goes silent. */
    static void impatient(NativeSocket peer) throws IOException {
        peer.setInt(SockOpt.TCP_USER_TIMEOUT, 3000);
        peer.setInt(SockOpt.SO_KEEPALIVE, 1);
        peer.setInt(SockOpt.TCP_KEEPIDLE, 1);
        peer.setInt(SockOpt.TCP_KEEPINTVL, 1);
        peer.setInt(SockOpt.TCP_KEEPCNT, 2);
    }

    /** A peer with default timeouts (minutes), streaming {@code chunk} bytes every {@code pauseMillis}. */
    static PeerSetup patientStreaming(int chunk, long pauseMillis) {
        return new PeerSetup() {
            @Override
            public void tune(NativeSocket s) {
            }

            @Override
            public PeerEcho start(NativeSocket s, long seed) throws Exception {
                return new PeerEcho(s, seed, chunk, pauseMillis);
            }
        };
    }

    static PeerSetup impatientStreaming(int chunk, long pauseMillis) {
        return new PeerSetup() {
            @Override
            public void tune(NativeSocket s) throws IOException {
                impatient(s);
            }

            @Override
            public PeerEcho start(NativeSocket s, long seed) throws Exception {
                return new PeerEcho(s, seed, chunk, pauseMillis);
            }
        };
    }

    /** A guest application process and its peers. */
    static final class App {
        final Process process;
        final List<PeerEcho> peers = new ArrayList<>();
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Map<String, String> socketsBefore;

        App(Process process) {
            this.process = process;
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream()))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        lines.add(line);
                    }
                } catch (IOException e) {
                    lines.add("READER-ERROR " + e);
                }
            }, "app-stdout " + process.pid());
            reader.setDaemon(true);
            reader.start();
        }

        void expect(String line, long timeoutMillis) throws Exception {
            long deadline = System.currentTimeMillis() + timeoutMillis;
            while (true) {
                String got = lines.poll(Math.max(1, deadline - System.currentTimeMillis()), TimeUnit.MILLISECONDS);
                if (got == null) {
                    String err = new String(process.getErrorStream().readNBytes(Math.min(4096, process.getErrorStream().available())));
                    throw new AssertionError("app " + process.pid() + " did not print " + line + "; stderr: " + err);
                }
                if (got.equals(line)) {
                    return;
                }
                if (got.startsWith("ERROR")) {
                    throw new AssertionError("app " + process.pid() + ": " + got);
                }
            }
        }

        /** fd number to link target ({@code socket:[inode]}) for every socket the app holds. */
        Map<String, String> sockets() throws IOException {
            Map<String, String> out = new TreeMap<>();
            try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(process.pid()), "fd"))) {
                for (Path fd : fds.toList()) {
                    try {
                        String target = Files.readSymbolicLink(fd).toString();
                        if (target.startsWith("socket:")) {
                            out.put(fd.getFileName().toString(), target);
                        }
                    } catch (java.nio.file.NoSuchFileException closed) {
                        // closed while listing
                    }
                }
            }
            return out;
        }

        /** Finishes every peer (FIN after its stream), checks each echo, waits for the app to print DONE. */
        List<String> finish(long timeoutMillis) throws Exception {
            List<String> digests = new ArrayList<>();
            for (PeerEcho p : peers) {
                digests.add(p.finish(timeoutMillis));
            }
            expect("DONE", timeoutMillis);
            if (!process.waitFor(timeoutMillis, TimeUnit.MILLISECONDS) || process.exitValue() != 0) {
                throw new AssertionError("app " + process.pid() + " did not exit cleanly");
            }
            return digests;
        }
    }

    static void await(BooleanSupplier condition, long timeoutMillis, String what) throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    Namespace guest() {
        return net.guest();
    }

    @Override
    public void close() throws Exception {
        Exception failure = null;
        try {
            if (agent != null) {
                agent.close();
            }
            if (agentProcess != null && agentProcess.isAlive()) {
                agentProcess.destroy(); // SIGTERM: the agent's shutdown hook stops it
                if (!agentProcess.waitFor(10, TimeUnit.SECONDS)) {
                    agentProcess.destroyForcibly();
                }
            }
            if (hostA != null) {
                hostA.close();
            }
            if (hostB != null) {
                hostB.close();
            }
        } catch (Exception | AssertionError e) {
            failure = e instanceof Exception ex ? ex : new Exception(e);
        }
        for (PeerEcho p : peers) {
            try {
                p.close();
            } catch (Exception e) {
                failure = failure == null ? e : failure;
            }
        }
        for (NativeSocket l : listeners) {
            l.close();
        }
        for (App a : apps) {
            a.process.destroyForcibly(); // also a stopped one: SIGKILL acts on stopped processes
        }
        net.close();
        deleteTree(dir);
        if (failure != null) {
            throw failure;
        }
    }

    static void deleteTree(Path dir) throws IOException {
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
