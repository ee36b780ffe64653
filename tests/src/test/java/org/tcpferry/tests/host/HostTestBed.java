package org.tcpferry.tests.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.tcpferry.host.HostManager;
import org.tcpferry.host.config.DomainConfig;
import org.tcpferry.host.config.HostConfig;
import org.tcpferry.host.config.PeerConfig;
import org.tcpferry.host.config.QuotaConfig;
import org.tcpferry.repair.ConnectionState;
import org.tcpferry.repair.TcpRepair;
import org.tcpferry.rig.StandardTopology;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.SockAddr;
import org.tcpferry.sys.SockOpt;

/**
 * A standard topology with a host manager started in-process for host A, plus the guest-side
 * steps a guest agent would take: connect, freeze, block the flow, dump and detach; later conform
 * in place and unblock. Closing it stops the host manager, checks that it left nothing in host A
 * (table, set element, ip rule, route, copy socket), and removes the namespaces.
 */
final class HostTestBed implements AutoCloseable {
    static final String DOMAIN = "vm1";
    static final String UUID_TEXT = "6f1e1f1a-0000-4000-8000-00000000f001";
    /**
     * {@code -Dtcpferry.test.fdKeeper=true}: the host manager runs with an fd keeper, as it does by
     * default in production, so that every hold path is also exercised with its copies kept.
     */
    static final boolean WITH_FD_KEEPER = Boolean.getBoolean("tcpferry.test.fdKeeper");

    private final StandardTopology topology;
    private final Path dir;
    private final HostConfig config;
    private HostManager host;
    private final Map<Integer, NativeSocket> listeners = new HashMap<>();
    private final List<AutoCloseable> connections = new ArrayList<>();
    private boolean blockTableMade;

    private HostTestBed(StandardTopology topology, Path dir, HostConfig config) {
        this.topology = topology;
        this.dir = dir;
        this.config = config;
    }

    static HostTestBed create(String purpose) throws IOException {
        return create(purpose, QuotaConfig.defaults(), "", "connect");
    }

    /**
     * @param channel the guest channel of the domain ("" for none)
     */
    static HostTestBed create(String purpose, QuotaConfig quotas, String channel, String channelMode) throws IOException {
        StandardTopology topology = StandardTopology.create(purpose);
        Path dir = null;
        try {
            dir = Files.createTempDirectory("tcpferry-host-test");
            QuotaConfig withDir = new QuotaConfig(quotas.connectionSpoolBytes(), quotas.domainSpoolBytes(),
                    quotas.memoryPerConnectionBytes(), dir.resolve("spool").toString(), quotas.holdSeconds(),
                    quotas.handoffsPerSecond(), quotas.handoffBurst(), quotas.concurrentHandoffs());
            HostConfig config = new HostConfig("hostA-test", dir.resolve("control.sock").toString(), PeerConfig.disabled(),
                    dir.resolve("host.secret").toString(), withDir, null, "127.0.0.1:0",
                    List.of(new DomainConfig(DOMAIN, UUID_TEXT,
                            List.of(StandardTopology.GUEST_V4, StandardTopology.GUEST_V6 + "/128"),
                            topology.hostA().file().toString(), StandardTopology.HOST_BRIDGE, channel, channelMode)));
            if (WITH_FD_KEEPER) {
                config = config.withFdKeeper(dir.resolve("keeper").resolve("fd-keeper.sock").toString(),
                        config.metricsListen());
            }
            HostTestBed bed = new HostTestBed(topology, dir, config);
            bed.host = HostManager.start(config);
            return bed;
        } catch (IOException | RuntimeException e) {
            topology.close();
            if (dir != null) {
                deleteTree(dir);
            }
            throw e;
        }
    }

    HostManager host() {
        return host;
    }

    StandardTopology topology() {
        return topology;
    }

    HostConfig config() {
        return config;
    }

    /** A connection from the guest to a listener of the peer on {@code peerIp:port}, with the peer's socket tuned. */
    Conn connect(String peerIp, int port, PeerTuning tuning) throws IOException {
        InetAddress peerAddress = InetAddress.getByName(peerIp);
        NativeSocket listener = listeners.get(port * 10 + (peerAddress instanceof Inet4Address ? 4 : 6));
        if (listener == null) {
            listener = topology.peer().netns().call(() -> {
                NativeSocket s = NativeSocket.tcp(SockAddr.family(peerAddress));
                s.setInt(SockOpt.SO_REUSEADDR, 1);
                s.bind(new InetSocketAddress(peerAddress, port));
                s.listen(4096);
                return s;
            });
            listeners.put(port * 10 + (peerAddress instanceof Inet4Address ? 4 : 6), listener);
        }
        NativeSocket guest = topology.guest().netns().call(() -> {
            NativeSocket s = NativeSocket.tcp(SockAddr.family(peerAddress));
            s.connect(new InetSocketAddress(peerAddress, port));
            return s;
        });
        NativeSocket peer = listener.accept();
        InetSocketAddress local = guest.localAddress();
        guest.describe(SockAddr.format(local) + "->" + SockAddr.format(guest.remoteAddress()));
        peer.describe(SockAddr.format(peer.localAddress()) + "->" + SockAddr.format(peer.remoteAddress()));
        tuning.apply(peer);
        Conn conn = new Conn(guest, peer);
        connections.add(conn);
        return conn;
    }

    /** {@code count} idle connections to {@code peerIp:port}, made in one pass through the guest namespace. */
    List<Conn> connectMany(String peerIp, int port, int count) throws IOException {
        connect(peerIp, port, PeerTuning.NONE); // makes the listener
        InetAddress peerAddress = InetAddress.getByName(peerIp);
        NativeSocket listener = listeners.get(port * 10 + (peerAddress instanceof Inet4Address ? 4 : 6));
        List<NativeSocket> guests = topology.guest().netns().call(() -> {
            List<NativeSocket> made = new ArrayList<>();
            for (int i = 1; i < count; i++) {
                NativeSocket s = NativeSocket.tcp(SockAddr.family(peerAddress));
                s.connect(new InetSocketAddress(peerAddress, port));
                made.add(s);
            }
            return made;
        });
        List<Conn> conns = new ArrayList<>();
        conns.add((Conn) connections.get(connections.size() - 1));
        for (NativeSocket guest : guests) {
            NativeSocket peer = listener.accept();
            guest.describe(SockAddr.format(guest.localAddress()) + "->" + SockAddr.format(guest.remoteAddress()));
            Conn conn = new Conn(guest, peer);
            connections.add(conn);
            conns.add(conn);
        }
        return conns;
    }

    /** Freezes the guest side of {@code conns}, blocks their flows in the guest, dumps and detaches them. */
    List<ConnectionState> capture(Collection<Conn> conns) throws Exception {
        for (Conn c : conns) {
            c.freeze();
        }
        setBlocked(conns, true);
        return topology.guest().netns().call(() -> {
            List<ConnectionState> states = new ArrayList<>();
            for (Conn c : conns) {
                ConnectionState state = TcpRepair.dump(c.guest);
                TcpRepair.detach(c.guest);
                states.add(state);
            }
            return states;
        });
    }

    ConnectionState capture(Conn conn) throws Exception {
        return capture(List.of(conn)).get(0);
    }

    /** Conforms each guest socket in place to its final state (in the guest namespace), unblocks, resumes readers. */
    void handBack(List<Conn> conns, List<ConnectionState> finals) throws Exception {
        topology.guest().netns().run(() -> {
            for (int i = 0; i < conns.size(); i++) {
                TcpRepair.conformInPlace(conns.get(i).guest, finals.get(i));
            }
        });
        setBlocked(conns, false);
        for (Conn c : conns) {
            c.thaw();
        }
    }

    void handBack(Conn conn, ConnectionState finalState) throws Exception {
        handBack(List.of(conn), List.of(finalState));
    }

    /** Drops (or lets through again) the flows in the guest namespace, as the agent's firewall does. */
    void setBlocked(Collection<Conn> conns, boolean blocked) throws IOException {
        StringBuilder script = new StringBuilder();
        if (!blockTableMade) {
            script.append("""
                    table inet tfblock {
                      set f4 { type ipv4_addr . inet_service . inet_service; }
                      set f6 { type ipv6_addr . inet_service . inet_service; }
                      chain in { type filter hook input priority -10; policy accept;
                        iifname "lo" accept
                        ip saddr . tcp sport . tcp dport @f4 drop
                        ip6 saddr . tcp sport . tcp dport @f6 drop
                      }
                      chain out { type filter hook output priority -10; policy accept;
                        oifname "lo" accept
                        ip daddr . tcp dport . tcp sport @f4 drop
                        ip6 daddr . tcp dport . tcp sport @f6 drop
                      }
                    }
                    """);
            blockTableMade = true;
        }
        List<String> v4 = new ArrayList<>();
        List<String> v6 = new ArrayList<>();
        for (Conn c : conns) {
            String element = c.remote.getAddress().getHostAddress() + " . " + c.remote.getPort() + " . " + c.local.getPort();
            (c.remote.getAddress() instanceof Inet4Address ? v4 : v6).add(element);
        }
        String verb = blocked ? "add" : "delete";
        if (!v4.isEmpty()) {
            script.append(verb).append(" element inet tfblock f4 { ").append(String.join(", ", v4)).append(" }\n");
        }
        if (!v6.isEmpty()) {
            script.append(verb).append(" element inet tfblock f6 { ").append(String.join(", ", v6)).append(" }\n");
        }
        topology.guest().nft(script.toString());
    }

    /** Stops the host manager and checks that host A holds nothing of it any more. */
    void stopHostAndCheckClean() throws IOException, InterruptedException {
        if (host == null) {
            return;
        }
        host.close();
        host = null;
        HostLeftovers.assertNone(topology.hostA(), dir.resolve("spool"));
        if (WITH_FD_KEEPER) {
            Path pidFile = org.tcpferry.host.keeper.FdKeeper.pidFile(Path.of(config.fdKeeperSocket()));
            for (int i = 0; i < 100 && Files.exists(pidFile); i++) {
                Thread.sleep(100); // it exits once the host manager that dropped everything is gone
            }
            assertThat(pidFile).as("the fd keeper still runs").doesNotExist();
        }
    }

    @Override
    public void close() throws Exception {
        Exception failure = null;
        try {
            stopHostAndCheckClean();
        } catch (Exception | AssertionError e) {
            failure = e instanceof Exception ex ? ex : new Exception(e);
        }
        for (AutoCloseable c : connections) {
            try {
                c.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = e;
                }
            }
        }
        for (NativeSocket l : listeners.values()) {
            l.close();
        }
        topology.close();
        deleteTree(dir);
        if (failure != null) {
            throw failure;
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }


    /** Socket options for the peer's end. */
    @FunctionalInterface
    interface PeerTuning {
        void apply(NativeSocket peer) throws IOException;

        PeerTuning NONE = peer -> { };

        /** TCP_USER_TIMEOUT 3000 ms and keepalive 1 s / 1 s / 2 probes: gives up 3 s after the guest goes silent. */
        PeerTuning IMPATIENT = peer -> {
            peer.setInt(SockOpt.TCP_USER_TIMEOUT, 3000);
            peer.setInt(SockOpt.SO_KEEPALIVE, 1);
            peer.setInt(SockOpt.TCP_KEEPIDLE, 1);
            peer.setInt(SockOpt.TCP_KEEPINTVL, 1);
            peer.setInt(SockOpt.TCP_KEEPCNT, 2);
        };
    }

    /** One test connection: the guest's socket and the peer's, and optionally a streamer and a reader. */
    static final class Conn implements AutoCloseable {
        final NativeSocket guest;
        final NativeSocket peer;
        final InetSocketAddress local;
        final InetSocketAddress remote;
        PeerStream stream;
        GuestEnd reader;

        Conn(NativeSocket guest, NativeSocket peer) throws IOException {
            this.guest = guest;
            this.peer = peer;
            this.local = guest.localAddress();
            this.remote = guest.remoteAddress();
        }

        /** Starts the peer streaming and the guest reading. */
        Conn streaming(long pauseMillis) {
            stream = new PeerStream(peer, pauseMillis).start();
            reader = new GuestEnd(guest);
            return this;
        }

        void freeze() throws InterruptedException {
            if (reader != null) {
                reader.pause();
            }
        }

        void thaw() {
            if (reader != null) {
                reader.resume();
            }
        }

        @Override
        public void close() throws Exception {
            if (reader != null) {
                reader.close();
            }
            if (stream != null) {
                stream.close();
            }
            if (!guest.isClosed()) {
                guest.close();
            }
            if (!peer.isClosed()) {
                peer.close();
            }
        }
    }
}
