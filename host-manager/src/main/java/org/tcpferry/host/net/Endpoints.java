package org.tcpferry.host.net;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.PeerCredentials;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.Closeable;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tcpferry.host.HostManager;
import org.tcpferry.host.config.DomainConfig;
import org.tcpferry.host.config.HostConfig;
import org.tcpferry.host.config.PeerConfig;
import org.tcpferry.protocol.Frames;

/**
 * The daemon's sockets, all on one Netty epoll event loop group: the control unix socket (0600,
 * root only), each domain's guest channel (connecting to the agent's socket and reconnecting when
 * it goes away, or listening for it), and the peer endpoint for other host managers (mutual TLS,
 * or plaintext with {@code insecure: true}).
 */
public final class Endpoints implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(Endpoints.class);
    private static final long RECONNECT_MILLIS = 1000;

    private final HostConfig config;
    private final HostManager manager;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
    private final List<Channel> servers = new java.util.concurrent.CopyOnWriteArrayList<>(); // grows at run time (addGuestChannel)
    private final Map<String, Channel> guestChannels = new HashMap<>();
    private final Map<String, Conversation> agents = new HashMap<>();
    private final ControlService control;
    private final Map<String, SocketAddress> guestListenAddresses = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, String> copyPlacements = new HashMap<>();
    private final Relay relay;
    private final org.tcpferry.host.steer.GuestAnnouncer announcer = new org.tcpferry.host.steer.GuestAnnouncer();
    private volatile boolean closing;
    private InetSocketAddress peerAddress;

    private Endpoints(HostConfig config, HostManager manager) throws IOException {
        this.config = config;
        this.manager = manager;
        this.control = new ControlService(manager, this);
        this.relay = new Relay(new PeerLinks(config, group,
                ready -> pipeline(Role.PEER_HOST, null, "peer-link", true, ready)));
    }

    public static Endpoints start(HostConfig config, HostManager manager) throws IOException {
        Endpoints endpoints = new Endpoints(config, manager);
        try {
            if (!config.controlSocket().isEmpty()) {
                endpoints.startControl(Path.of(config.controlSocket()));
            }
            for (DomainConfig domain : config.domains()) {
                if (!domain.channel().isEmpty()) {
                    endpoints.startGuestChannel(domain);
                }
            }
            if (config.peer().enabled()) {
                endpoints.startPeer(config.peer());
            }
            endpoints.relay.warmUp();
            return endpoints;
        } catch (IOException | RuntimeException e) {
            endpoints.close();
            throw e;
        }
    }

    /** The bound address of the peer endpoint, or null when disabled. */
    public InetSocketAddress peerAddress() {
        return peerAddress;
    }

    /** The bound address of a domain's guest channel in listen mode. */
    public SocketAddress guestListenAddress(String domain) {
        return guestListenAddresses.get(domain);
    }

    /** The current channel to a domain's agent, or null when not connected. */
    public synchronized Channel guestChannel(String domain) {
        return guestChannels.get(domain);
    }

    ControlService control() {
        return control;
    }

    Relay relay() {
        return relay;
    }

    org.tcpferry.host.steer.GuestAnnouncer announcer() {
        return announcer;
    }

    /** The host the copies of {@code domain}'s running handoff go to, or null for this host. */
    synchronized String copiesPlacedOn(String domain) {
        return copyPlacements.get(domain);
    }

    /** Places the copies of {@code domain}'s next handoffs on {@code node}; null places them here again. */
    synchronized void placeCopies(String domain, String node) {
        if (node == null) {
            copyPlacements.remove(domain);
        } else {
            copyPlacements.put(domain, node);
        }
    }

    /** Runs a control verb as if the CLI had sent it (the host manager's own automatic reclaim uses it). */
    public java.util.concurrent.CompletableFuture<org.tcpferry.protocol.Message> runControl(
            org.tcpferry.protocol.ControlCommand command) {
        return control.run(command);
    }

    /** Whether a domain's agent is connected now. */
    public boolean agentConnected(String domain) {
        return agentConversation(domain) != null;
    }

    /** The conversation with a domain's agent, or null when no agent is connected. */
    synchronized Conversation agentConversation(String domain) {
        return agents.get(domain);
    }

    synchronized void agentConnected(String domain, Conversation conversation) {
        agents.put(domain, conversation);
    }

    synchronized void agentDisconnected(String domain, Conversation conversation) {
        agents.remove(domain, conversation);
    }

    private void startControl(Path path) throws IOException {
        Path dir = path.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        Files.deleteIfExists(path); // a socket file left by a daemon that died; binding would fail with EADDRINUSE
        Channel server = bind(new ServerBootstrap().group(group).channel(EpollServerDomainSocketChannel.class)
                .childHandler(pipeline(Role.CONTROL, null, "control", false)), new DomainSocketAddress(path.toFile()));
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        servers.add(server);
        log.info("event=listening endpoint=control path={}", path);
    }

    /** Opens the guest channel of a domain added after the start (nothing when it has no channel). */
    public void addGuestChannel(DomainConfig domain) throws IOException {
        if (!domain.channel().isEmpty() && !closing) {
            startGuestChannel(domain);
        }
    }

    private void startGuestChannel(DomainConfig domain) throws IOException {
        SocketAddress address = channelAddress(domain.channel());
        if (domain.channelMode().equals("listen")) {
            ServerBootstrap bootstrap = new ServerBootstrap().group(group)
                    .channel(address instanceof DomainSocketAddress ? EpollServerDomainSocketChannel.class
                            : EpollServerSocketChannel.class)
                    .childHandler(pipeline(Role.AGENT, domain.name(), "guest:" + domain.name(), false));
            if (address instanceof DomainSocketAddress unix) {
                Files.deleteIfExists(Path.of(unix.path()));
            }
            Channel server = bind(bootstrap, address);
            servers.add(server);
            guestListenAddresses.put(domain.name(), server.localAddress());
            log.info("event=listening endpoint=guest domain={} address={}", domain.name(), server.localAddress());
        } else {
            connectGuest(domain, address);
        }
    }

    /** Connects to the agent; on failure or loss, tries again every second until closed. */
    private void connectGuest(DomainConfig domain, SocketAddress address) {
        if (closing) {
            return;
        }
        Bootstrap bootstrap = new Bootstrap().group(group)
                .channel(address instanceof DomainSocketAddress ? EpollDomainSocketChannel.class : EpollSocketChannel.class)
                .handler(pipeline(Role.AGENT, domain.name(), "guest:" + domain.name(), true));
        bootstrap.connect(address).addListener((ChannelFuture f) -> {
            if (!f.isSuccess()) {
                log.debug("event=guest_connect_failed domain={} address={} error=\"{}\"", domain.name(), address,
                        f.cause().getMessage());
                if (closing) {
                    return;
                }
                group.schedule(() -> connectGuest(domain, address), RECONNECT_MILLIS, TimeUnit.MILLISECONDS);
                return;
            }
            Channel channel = f.channel();
            synchronized (this) {
                guestChannels.put(domain.name(), channel);
            }
            log.info("event=guest_connected domain={} address={}", domain.name(), address);
            channel.closeFuture().addListener(closed -> {
                synchronized (this) {
                    guestChannels.remove(domain.name(), channel);
                }
                if (!closing) {
                    group.schedule(() -> connectGuest(domain, address), RECONNECT_MILLIS, TimeUnit.MILLISECONDS);
                }
            });
        });
    }

    private void startPeer(PeerConfig peer) throws IOException {
        SslContext tls = null;
        if (!peer.insecure()) {
            tls = SslContextBuilder.forServer(new File(peer.cert()), new File(peer.key()))
                    .trustManager(new File(peer.trust())).clientAuth(ClientAuth.REQUIRE).build();
        } else {
            log.warn("event=insecure_peer_endpoint listen={} why=\"peer.insecure is true: no TLS, no authentication\"",
                    peer.listen());
        }
        SslContext sslContext = tls;
        ChannelInitializer<Channel> frames = pipeline(Role.PEER_HOST, null, "peer", false);
        Channel server = bind(new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (sslContext != null) {
                            ch.pipeline().addLast(sslContext.newHandler(ch.alloc()));
                        }
                        ch.pipeline().addLast(frames);
                    }
                }), HostManager.parseHostPort(peer.listen()));
        servers.add(server);
        peerAddress = (InetSocketAddress) server.localAddress();
        log.info("event=listening endpoint=peer address={} tls={}", peerAddress, sslContext != null);
    }

    /** @param opener whether this host opens the connection (it then speaks first) */
    private ChannelInitializer<Channel> pipeline(Role role, String domain, String endpoint, boolean opener) {
        return pipeline(role, domain, endpoint, opener, null);
    }

    private ChannelInitializer<Channel> pipeline(Role role, String domain, String endpoint, boolean opener,
            java.util.concurrent.CompletableFuture<Conversation> ready) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                if (role == Role.CONTROL) {
                    ch.pipeline().addLast(new RootOnly());
                }
                ChannelWriter writer = new ChannelWriter(ch);
                ch.pipeline().addLast(new FrameCodec(Frames.DEFAULT_MAX_PAYLOAD, endpoint, writer));
                ch.pipeline().addLast(new MessageHandler(role, manager, Endpoints.this, domain, opener, ready, writer));
            }
        };
    }

    private static Channel bind(ServerBootstrap bootstrap, SocketAddress address) throws IOException {
        ChannelFuture bound = bootstrap.bind(address).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            throw new IOException("cannot listen on " + address + ": " + bound.cause().getMessage(), bound.cause());
        }
        return bound.channel();
    }

    /** {@code tcp:host:port} or a unix socket path. */
    static SocketAddress channelAddress(String channel) {
        if (channel.startsWith("tcp:")) {
            return HostManager.parseHostPort(channel.substring(4));
        }
        return new DomainSocketAddress(channel);
    }

    @Override
    public void close() {
        closing = true;
        for (Channel server : servers) {
            server.close().awaitUninterruptibly();
        }
        List<Channel> guests;
        synchronized (this) {
            guests = new ArrayList<>(guestChannels.values());
        }
        // Closed outside the lock: each channel's close listener takes it on the event loop.
        guests.forEach(c -> c.close().awaitUninterruptibly());
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        announcer.close();
        if (!config.controlSocket().isEmpty()) {
            try {
                Files.deleteIfExists(Path.of(config.controlSocket()));
            } catch (IOException e) {
                log.warn("event=control_socket_not_removed path={} error=\"{}\"", config.controlSocket(), e.getMessage());
            }
        }
    }

    /**
     * Closes control connections from anyone but root or the daemon's own user. The socket file's
     * mode 0600 already says so; SO_PEERCRED makes sure even if the file's mode was changed.
     */
    private static final class RootOnly extends ChannelInboundHandlerAdapter {
        private static final long OWN_UID = new com.sun.security.auth.module.UnixSystem().getUid();

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            PeerCredentials credentials = ((EpollDomainSocketChannel) ctx.channel()).peerCredentials();
            if (credentials.uid() != 0 && credentials.uid() != OWN_UID) {
                log.warn("event=control_refused uid={} pid={}", credentials.uid(), credentials.pid());
                ctx.close();
                return;
            }
            ctx.pipeline().remove(this);
            super.channelActive(ctx);
        }
    }
}
