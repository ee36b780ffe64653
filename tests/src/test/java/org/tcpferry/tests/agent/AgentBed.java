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
import org.tcpferry.host.config.HostConfig;
import org.tcpferry.host.config.PeerConfig;
import org.tcpferry.host.net.Envelope;
import org.tcpferry.protocol.ControlCommand;
import org.tcpferry.protocol.ControlReply;
import org.tcpferry.protocol.FrameStreams;
import org.tcpferry.protocol.Hello;
import org.tcpferry.protocol.HelloReply;
import org.tcpferry.protocol.Message;
import org.tcpferry.protocol.MessageCodec;
import org.tcpferry.rig.Namespace;
import org.tcpferry.rig.HostPair;
import org.tcpferry.rig.StandardTopology;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.SockAddr;
import org.tcpferry.sys.SockOpt;

/**
 * The rig for agent tests: a standard topology, host managers A and B ({@link HostPair}, in-process,
 * connecting to the agent's unix socket as to a virtio-serial chardev; B only when a test moves the
 * guest or places copies there), an in-process {@link Agent} whose socket
 * work runs in the guest namespace, and guest applications as separate {@link EchoApp} processes
 * in the guest namespace, each connection echoed to a {@link PeerEcho} in the peer namespace.
 * Closing removes everything (processes by the rig, namespaces, host A's tables, the temp dir).
 */
public final class AgentBed implements AutoCloseable {
    public static final String DOMAIN = "vm1";
    static final String HOSTA = HostPair.HOSTA;
    static final String HOSTB = HostPair.HOSTB;
    /** The agent's listening socket, played as the guest end of a virtio-serial port. */
    static final String AGENT_SOCKET = "agent.sock";

    final StandardTopology net;
    final Path dir;
    /** Host managers A (started) and B (started when a test needs it), each with the other as peer. */
    final HostPair hosts;
    final HostConfig hostConfig;
    /** Host A in this JVM, or null when it runs as a process ({@link #hostd}). */
    final HostManager hostA;
    /** Host A as a process ({@link #create(String, boolean, boolean)}), instead of {@link #hostA}. */
    HostdProcess hostd;
    Agent agent;
    private boolean reclaimOnReconnect = true;
    /** Ids for orders sent straight down host A's channel, far above the host's own odd ids. */
    private final AtomicInteger orderIds = new AtomicInteger(0x40000001);
    private final List<App> apps = new ArrayList<>();
    private final List<PeerEcho> peers = new ArrayList<>();
    private final List<NativeSocket> listeners = new ArrayList<>();

    private AgentBed(StandardTopology net, Path dir, HostPair hosts) {
        this.net = net;
        this.dir = dir;
        this.hosts = hosts;
        this.hostConfig = hosts.configA();
        this.hostA = hosts.hostA();
    }

    static AgentBed create(String purpose) throws Exception {
        return create(purpose, true);
    }

    /**
     * @param inProcess an {@link Agent} in this JVM; otherwise {@code bin/tcpferry-agent} runs as a
     *     process of its own ({@link #agentProcess}), as in a guest
     */
    static AgentBed create(String purpose, boolean inProcess) throws Exception {
        return create(purpose, inProcess, false);
    }

    /**
     * @param hostdProcess host A runs as {@code bin/tcpferry hostd}, a process of its own with an
     *     fd keeper ({@link #hostd}), so that it can be killed with SIGKILL and started again
     */
    public static AgentBed create(String purpose, boolean inProcess, boolean hostdProcess) throws Exception {
        return create(purpose, inProcess, hostdProcess, true);
    }

    /** @param reclaimOnReconnect whether the agent takes its connections back as soon as a host connects */
    public static AgentBed create(String purpose, boolean inProcess, boolean hostdProcess, boolean reclaimOnReconnect)
            throws Exception {
        return create(purpose, inProcess, hostdProcess, reclaimOnReconnect, null);
    }

    /** @param tls the peer endpoints' settings per node name (mutual TLS); null for plaintext */
    static AgentBed create(String purpose, boolean inProcess, java.util.function.Function<String, PeerConfig> tls)
            throws Exception {
        return create(purpose, inProcess, false, true, tls);
    }

    private static AgentBed create(String purpose, boolean inProcess, boolean hostdProcess, boolean reclaimOnReconnect,
            java.util.function.Function<String, PeerConfig> tls) throws Exception {
        StandardTopology net = StandardTopology.create(purpose);
        Path dir = Files.createTempDirectory("tcpferry-agent-test");
        HostPair hosts = null;
        try {
            String uuid = "6f1e1f1a-0000-4000-8000-00000000a001";
            hosts = HostPair.create(net, dir, DOMAIN, uuid, dir.resolve(AGENT_SOCKET),
                    tls == null ? HostPair.PLAINTEXT_PEERS : tls);
            if (hostdProcess) {
                hosts.configureA(config -> config.withFdKeeper(
                        dir.resolve("keeper").resolve("fd-keeper.sock").toString(), ""));
            } else {
                hosts.startHostA();
            }
            AgentBed bed = new AgentBed(net, dir, hosts);
            bed.reclaimOnReconnect = reclaimOnReconnect;
            if (inProcess) {
                bed.agent = Agent.start(bed.agentConfig());
            } else {
                bed.spawnAgent();
            }
            if (hostdProcess) {
                bed.hostd = HostdProcess.start(hosts.configA(), dir);
            }
            bed.awaitConnected();
            return bed;
        } catch (Exception | Error e) {
            if (hosts != null) {
                hosts.close();
            }
            net.close();
            deleteTree(dir);
            throw e;
        }
    }

    /** Host B's manager, or null before {@link #startHostB} or {@link #moveToHostB}. */
    HostManager hostB() {
        return hosts.hostB();
    }

    void startHostB() throws Exception {
        hosts.startHostB();
    }

    /** The guest moves to host B ({@link HostPair#moveGuestToHostB}); returns once the agent talks to host B. */
    void moveToHostB() throws Exception {
        hosts.moveGuestToHostB();
        // An agent told to crash during the reclaim may already be dead by the time this looks.
        await(() -> (agent != null && agent.crashed()) || (hostB().endpoints().guestChannel(DOMAIN) != null
                && (agent == null || (agent.session() != null && HOSTB.equals(agent.session().peerNode())))), 20_000,
                "host B connected to the agent");
    }

    AgentConfig agentConfig() {
        return new AgentConfig("unix:" + dir.resolve(AGENT_SOCKET), dir.resolve("journal"), "guest-test", "",
                net.guest().file(), reclaimOnReconnect);
    }

    /** Starts a fresh agent on the same journal and channel, as after a restart. */
    void restartAgent() throws Exception {
        agent.close();
        agent = Agent.start(agentConfig());
        awaitConnected();
    }

    public void awaitConnected() throws Exception {
        if (hostd != null) {
            // The process's channel is not visible from here: the in-process agent's session is.
            await(() -> agent != null && agent.session() != null, 30_000, "host A (process) connected to the agent");
            return;
        }
        HostManager host = hosts.current();
        await(() -> (agent == null || agent.session() != null) && host.endpoints().guestChannel(DOMAIN) != null, 20_000,
                host.config().node() + " connected to the agent");
    }

    /** Host B's manager, stopped and started again with {@code config} (the agent reconnects to it). */
    void restartHostB(HostConfig config) throws Exception {
        hosts.restartHostB(config);
    }

    public HostdProcess hostd() {
        return hostd;
    }

    public Agent agent() {
        return agent;
    }

    public Path dir() {
        return dir;
    }

    public StandardTopology net() {
        return net;
    }

    /** The agent as a process: {@code bin/tcpferry-agent run} with this bed's channel and journal. */
    Process agentProcess;

    public void spawnAgent() throws IOException {
        spawnAgent(Map.of());
    }

    /** As {@link #spawnAgent()}, with {@code environment} added (e.g. TCPFERRY_AGENT_CRASH_AT); output appended. */
    public void spawnAgent(Map<String, String> environment) throws IOException {
        Path script = Path.of("..", "bin", "tcpferry-agent").toAbsolutePath().normalize();
        ProcessBuilder builder = new ProcessBuilder(script.toString(), "run", "--channel",
                "unix:" + dir.resolve(AGENT_SOCKET), "--journal", dir.resolve("journal").toString(), "--node",
                "guest-process", "--netns", net.guest().file().toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("agent.log").toFile()));
        builder.environment().putAll(environment);
        agentProcess = builder.start();
    }

    /** The agent process stops (SIGTERM) and a new one starts with {@code environment}. */
    public void respawnAgent(Map<String, String> environment) throws Exception {
        agentProcess.destroy();
        if (!agentProcess.waitFor(20, TimeUnit.SECONDS)) {
            throw new AssertionError("the agent process did not stop on SIGTERM");
        }
        spawnAgent(environment);
        awaitConnected();
    }

    /** Waits for the agent process to die (a crash point it was started with). */
    public void awaitAgentDeath(long timeoutMillis) throws InterruptedException {
        if (!agentProcess.waitFor(timeoutMillis, TimeUnit.MILLISECONDS)) {
            throw new AssertionError("the agent process did not die within " + timeoutMillis + " ms");
        }
    }

    /** kill -9 of the agent process. */
    void killAgent() throws Exception {
        agentProcess.destroyForcibly();
        agentProcess.waitFor(10, TimeUnit.SECONDS);
    }

    /** The connections host A holds for the domain now. */
    public int heldByHostA() {
        if (hostd != null) {
            try {
                return hostd.status().path("domains").get(0).path("connections").size();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
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
        if (hostB() != null) {
            org.assertj.core.api.Assertions.assertThat(held(hostB())).as("held by host B").isZero();
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
    public ControlReply control(String verb) throws Exception {
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

    /** Orders a handoff of every connection from host A and waits until {@code count} are HANDED_OFF. */
    void handOffAll(int count) throws Exception {
        order(new org.tcpferry.protocol.HandoffOrder(org.tcpferry.protocol.Selection.all()));
        awaitPhase(Phase.HANDED_OFF, count, 20_000);
    }

    void awaitPhase(Phase phase, int count, long timeoutMillis) throws Exception {
        await(() -> agent.connections().size() == count && agent.connections().stream().allMatch(c -> c.phase() == phase),
                timeoutMillis, count + " connections " + phase + " (now " + phases() + ")");
    }

    public void awaitAllBack(int reports, long timeoutMillis) throws Exception {
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
    public App app(String mode, String peerIp, int port, int count, PeerSetup peer) throws Exception {
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
    public interface PeerSetup {
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
    public static PeerSetup patientStreaming(int chunk, long pauseMillis) {
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

    public static PeerSetup impatientStreaming(int chunk, long pauseMillis) {
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
    public static final class App {
        final Process process;
        final List<PeerEcho> peers = new ArrayList<>();
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        public Map<String, String> socketsBefore;

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

        /** Waits for the app's next line that starts with {@code prefix} (e.g. "ERROR") and returns it. */
        public String awaitLine(String prefix, long timeoutMillis) throws Exception {
            long deadline = System.currentTimeMillis() + timeoutMillis;
            while (true) {
                String got = lines.poll(Math.max(1, deadline - System.currentTimeMillis()), TimeUnit.MILLISECONDS);
                if (got == null) {
                    throw new AssertionError("app " + process.pid() + " printed no line starting with " + prefix);
                }
                if (got.startsWith(prefix)) {
                    return got;
                }
            }
        }

        /** fd number to link target ({@code socket:[inode]}) for every socket the app holds. */
        public Map<String, String> sockets() throws IOException {
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
        public List<String> finish(long timeoutMillis) throws Exception {
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

    public static void await(BooleanSupplier condition, long timeoutMillis, String what) throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    public Namespace guest() {
        return net.guest();
    }

    @Override
    public void close() throws Exception {
        Exception failure = null;
        try {
            if (agent != null) {
                agent.close();
            }
            if (hostd != null) {
                hostd.close();
            }
            if (agentProcess != null && agentProcess.isAlive()) {
                agentProcess.destroy(); // SIGTERM: the agent's shutdown hook stops it
                if (!agentProcess.waitFor(10, TimeUnit.SECONDS)) {
                    agentProcess.destroyForcibly();
                }
            }
            hosts.close();
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
