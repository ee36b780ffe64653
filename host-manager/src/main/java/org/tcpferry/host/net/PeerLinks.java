package org.tcpferry.host.net;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tcpferry.host.HostManager;
import org.tcpferry.host.config.HostConfig;
import org.tcpferry.host.config.PeerAddress;
import org.tcpferry.host.config.PeerConfig;

/**
 * Connections this host opens to other host managers' peer endpoints, one per node, opened on first
 * use and again after one is lost. A link is ready once the other side answered our Hello. The
 * client side uses the same certificate, key and trust as this host's peer endpoint (mutual TLS),
 * or plaintext with {@code peer.insecure}.
 */
final class PeerLinks {
    private static final Logger log = LoggerFactory.getLogger(PeerLinks.class);
    private static final int CONNECT_TIMEOUT_MILLIS = 5000;

    private final HostConfig config;
    private final EventLoopGroup group;
    /** Builds the frame and message handlers of a link; completes the future when Hello was answered. */
    private final Function<CompletableFuture<Conversation>, ChannelInitializer<Channel>> pipeline;
    private final SslContext tls;
    private final Map<String, CompletableFuture<Conversation>> links = new HashMap<>();

    PeerLinks(HostConfig config, EventLoopGroup group,
            Function<CompletableFuture<Conversation>, ChannelInitializer<Channel>> pipeline) throws IOException {
        this.config = config;
        this.group = group;
        this.pipeline = pipeline;
        this.tls = clientTls(config.peer());
    }

    /**
     * Opens a link to every configured peer now, so that the first relayed release after a move
     * does not wait for a TCP and TLS handshake. A peer that is not up yet is tried again on first use.
     */
    void warmUp() {
        for (PeerAddress peer : config.peers()) {
            to(peer.node()).whenComplete((link, error) -> {
                if (error != null) {
                    log.info("event=peer_link_not_ready node={} address={} why=\"{}\"", peer.node(), peer.address(),
                            error.getMessage());
                }
            });
        }
    }

    /** The ready conversation with {@code node}; fails with a message naming the node and address. */
    synchronized CompletableFuture<Conversation> to(String node) {
        CompletableFuture<Conversation> link = links.get(node);
        if (link != null && !link.isCompletedExceptionally() && (!link.isDone() || link.join().isOpen())) {
            return link;
        }
        PeerAddress peer = config.peerNamed(node);
        if (peer == null) {
            return CompletableFuture.failedFuture(new IOException("no peers entry for host " + node
                    + " in this host's config (known: " + config.peers().stream().map(PeerAddress::node).toList() + ")"));
        }
        CompletableFuture<Conversation> ready = new CompletableFuture<>();
        links.put(node, ready);
        connect(peer, ready);
        return ready;
    }

    private void connect(PeerAddress peer, CompletableFuture<Conversation> ready) {
        InetSocketAddress address = HostManager.parseHostPort(peer.address());
        ChannelInitializer<Channel> frames = pipeline.apply(ready);
        Bootstrap bootstrap = new Bootstrap().group(group).channel(EpollSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc(), address.getHostString(), address.getPort()));
                        }
                        ch.pipeline().addLast(frames);
                    }
                });
        bootstrap.connect(address).addListener((ChannelFuture f) -> {
            if (!f.isSuccess()) {
                ready.completeExceptionally(new IOException("cannot connect to host " + peer.node() + " at "
                        + peer.address() + ": " + f.cause().getMessage(), f.cause()));
                return;
            }
            log.info("event=peer_link_open node={} address={} tls={}", peer.node(), peer.address(), tls != null);
            f.channel().closeFuture().addListener(closed -> {
                ready.completeExceptionally(new IOException("host " + peer.node() + " at " + peer.address()
                        + " closed the connection before answering Hello"));
                log.info("event=peer_link_closed node={} address={}", peer.node(), peer.address());
            });
        });
    }

    private static SslContext clientTls(PeerConfig peer) throws IOException {
        if (peer.insecure() || peer.cert() == null) {
            return null;
        }
        return SslContextBuilder.forClient().keyManager(new File(peer.cert()), new File(peer.key()))
                .trustManager(new File(peer.trust())).build();
    }
}
