package org.tcpferry.host;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tcpferry.diag.Capabilities;
import org.tcpferry.diag.CapabilityReport;
import org.tcpferry.diag.Feature;
import org.tcpferry.host.auth.HostSecret;
import org.tcpferry.host.auth.TokenAuthority;
import org.tcpferry.host.config.DomainConfig;
import org.tcpferry.host.config.HostConfig;
import org.tcpferry.host.handoff.HandoffService;
import org.tcpferry.host.keeper.KeptCopies;
import org.tcpferry.host.keeper.KeeperClient;
import org.tcpferry.host.hold.DomainHolds;
import org.tcpferry.host.hold.HeldConnection;
import org.tcpferry.host.hold.HoldLifecycle;
import org.tcpferry.host.hold.HoldState;
import org.tcpferry.host.hold.NamespaceRuntime;
import org.tcpferry.host.hold.SpoolQuota;
import org.tcpferry.host.metrics.HostMetrics;
import org.tcpferry.host.metrics.MetricsServer;
import org.tcpferry.host.libvirt.DomainMerge;
import org.tcpferry.host.libvirt.LibvirtSession;
import org.tcpferry.host.libvirt.LifecycleWatcher;
import org.tcpferry.host.net.Endpoints;
import org.tcpferry.protocol.ControlCommand;
import org.tcpferry.protocol.ControlReply;

/**
 * The host manager daemon, startable in-process: {@link #start} brings up steering and copy loops
 * for every domain's namespace, the handoff service and the endpoints; {@link #close} drops
 * whatever is still held and removes every table, rule, route and socket it made; {@link #stop},
 * the daemon's stop, leaves what is held to the fd keeper instead when there is one.
 */
public final class HostManager implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(HostManager.class);

    private final HostConfig config;
    private final Map<Path, NamespaceRuntime> runtimes;
    private final Map<String, DomainHolds> domains;
    private final HandoffService handoffs;
    private final HostMetrics metrics;
    private MetricsServer metricsServer;
    private Endpoints endpoints;
    private LifecycleWatcher lifecycle;
    /** Keeps the copies across a restart; null when fdKeeperSocket is empty. */
    private KeeperClient keeper;
    /** Checks once a second for holds older than quotas.holdSeconds (not started when that is 0). */
    private final java.util.concurrent.ScheduledExecutorService expiry =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread thread = new Thread(r, "hold-expiry");
                thread.setDaemon(true);
                return thread;
            });
    /** Automatic reclaims (libvirt events) wait here for agents, off libvirt's event thread. */
    private final java.util.concurrent.ExecutorService reclaims = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "auto-reclaim");
        thread.setDaemon(true);
        return thread;
    });

    private HostManager(HostConfig config, Map<Path, NamespaceRuntime> runtimes, Map<String, DomainHolds> domains,
            HandoffService handoffs, HostMetrics metrics) {
        this.config = config;
        this.runtimes = runtimes;
        this.domains = domains;
        this.handoffs = handoffs;
        this.metrics = metrics;
    }

    /** What the host manager needs of the machine: repair, nft, and entering bridge namespaces. */
    static final Set<Feature> REQUIRED = EnumSet.of(Feature.CAP_NET_ADMIN, Feature.CAP_SYS_ADMIN, Feature.TCP_REPAIR,
            Feature.NFT);

    public static HostManager start(HostConfig configured) throws IOException {
        HostConfig config = configured.libvirt().enabled() ? withDiscoveredDomains(configured) : configured;
        CapabilityReport capabilities = Capabilities.probe();
        log.info("event=capabilities node={} report=\"{}\"", config.node(), capabilities.toString().replace('\n', ';'));
        capabilities.require("tcpferry hostd", REQUIRED);
        TokenAuthority tokens = new TokenAuthority(HostSecret.loadOrCreate(Path.of(config.secretFile())), config.node());
        Map<Path, NamespaceRuntime> runtimes = new HashMap<>();
        Map<String, DomainHolds> domains = new LinkedHashMap<>();
        HostManager manager = null;
        KeeperClient keeper = config.fdKeeperSocket().isEmpty() ? null
                : KeeperClient.connectOrStart(Path.of(config.fdKeeperSocket()));
        try {
            KeptCopies kept = keeper == null ? KeptCopies.NONE : KeptCopies.sort(config, keeper.list());
            for (DomainConfig domain : config.domains()) {
                Path netns = domain.netnsPath();
                NamespaceRuntime runtime = runtimes.get(netns);
                if (runtime == null) {
                    runtime = NamespaceRuntime.start(netns, config.steering(), kept.steeredIn(netns));
                    runtimes.put(netns, runtime);
                }
                DomainHolds holds = new DomainHolds(domain,
                        new SpoolQuota(config.quotas().connectionSpoolBytes(), config.quotas().domainSpoolBytes()), runtime);
                if (keeper != null) {
                    holds.keeper(keeper);
                }
                domains.put(domain.name(), holds);
            }
            if (keeper != null) {
                kept.adoptInto(domains, config);
            }
            HostMetrics metrics = new HostMetrics(
                    () -> domains.values().stream().mapToLong(d -> d.connections().size()).sum(),
                    () -> domains.values().stream().mapToLong(d -> d.quota().used()).sum());
            HandoffService handoffs = new HandoffService(config, domains, tokens, metrics);
            manager = new HostManager(config, runtimes, domains, handoffs, metrics);
            manager.keeper = keeper;
            if (!config.metricsListen().isEmpty()) {
                manager.metricsServer = MetricsServer.start(parseHostPort(config.metricsListen()), metrics);
            }
            manager.endpoints = Endpoints.start(config, manager);
            if (config.libvirt().enabled()) {
                manager.lifecycle = LifecycleWatcher.start(config.libvirt().uri(), manager::guestRunsAgain);
            }
            if (keeper != null) {
                manager.expiry.scheduleWithFixedDelay(manager::replaceLostKeeper, 1, 1, TimeUnit.SECONDS);
            }
            if (config.quotas().holdSeconds() > 0) {
                HostManager started = manager;
                manager.expiry.scheduleWithFixedDelay(started::expireOldHolds, 1, 1, TimeUnit.SECONDS);
            }
            log.info("event=started node={} domains={} namespaces={}", config.node(), domains.keySet(), runtimes.size());
            return manager;
        } catch (IOException | RuntimeException e) {
            long held = domains.values().stream().mapToLong(d -> d.connections().size()).sum();
            if (keeper != null && held > 0) {
                // Cleaning up would drop the connections this start adopted. Left alone, the copies
                // stay with the keeper and their flows steered, and the next start adopts them again.
                log.error("event=start_failed_holding held={} error=\"{}\" consequence=\"copies left with the fd keeper for the next start\"",
                        held, e.getMessage());
                try {
                    keeper.close();
                } catch (IOException closeError) {
                    e.addSuppressed(closeError);
                }
                throw e;
            }
            try {
                if (manager != null) {
                    manager.close();
                } else {
                    for (NamespaceRuntime runtime : runtimes.values()) {
                        runtime.close();
                    }
                    if (keeper != null) {
                        keeper.close();
                    }
                }
            } catch (IOException | RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    /** The configured domains plus those libvirt knows and that are set up for tcpferry ({@link DomainMerge}). */
    private static HostConfig withDiscoveredDomains(HostConfig config) throws IOException {
        try (LibvirtSession session = LibvirtSession.open(config.libvirt().uri())) {
            HostConfig merged = config.withDomains(DomainMerge.merge(config.domains(), session.discover()));
            log.info("event=libvirt_discovery uri={} configured={} domains={}", config.libvirt().uri(),
                    config.domains().size(), merged.domains().stream().map(DomainConfig::name).toList());
            return merged;
        }
    }

    /**
     * libvirt reports that {@code name}'s guest runs again on this host (resumed, restored, migrated
     * in). If this host holds connections for it, order its agent to take them back once the agent
     * is connected; the agent may also have asked for them itself, which a reclaim order does not disturb.
     */
    void guestRunsAgain(String name, String event) {
        DomainHolds holds = domains.get(name);
        if (holds == null || holds.connections().isEmpty()) {
            log.info("event=auto_reclaim_skipped domain={} libvirt_event=\"{}\" why=\"{}\"", name, event,
                    holds == null ? "unknown domain" : "nothing held");
            return;
        }
        reclaims.execute(() -> {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(config.libvirt().reclaimWaitSeconds());
            try {
                while (!endpoints.agentConnected(name)) {
                    if (System.nanoTime() > deadline) {
                        log.warn("event=auto_reclaim_failed domain={} held={} why=\"agent not connected after {} s\"", name,
                                holds.connections().size(), config.libvirt().reclaimWaitSeconds());
                        return;
                    }
                    Thread.sleep(200);
                }
                ControlReply reply = (ControlReply) endpoints.runControl(new ControlCommand("reclaim", Map.of("domain", name)))
                        .get(180, TimeUnit.SECONDS);
                log.info("event=auto_reclaim domain={} libvirt_event=\"{}\" exit={} result={}", name, event,
                        reply.exitCode(), reply.json());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                log.error("event=auto_reclaim_failed domain={} error=\"{}\"", name, e.toString(), e);
            }
        });
    }

    public HostConfig config() {
        return config;
    }

    public HandoffService handoffs() {
        return handoffs;
    }

    public HostMetrics metrics() {
        return metrics;
    }

    /** The metrics endpoint's bound address, or null when disabled. */
    public InetSocketAddress metricsAddress() {
        return metricsServer == null ? null : metricsServer.address();
    }

    public Endpoints endpoints() {
        return endpoints;
    }

    public DomainHolds domain(String name) {
        return domains.get(name);
    }

    /** The status document ({@link StatusReport}). */
    public com.fasterxml.jackson.databind.node.ObjectNode status() {
        return StatusReport.of(config.node(), List.copyOf(domains.values()));
    }

    /**
     * Ends every hold that nobody reclaimed within quotas.holdSeconds: the operator's policy for a
     * destination that never came back. Runs on the expiry thread; never throws (a failure is logged
     * and the next round tries again).
     */
    private void expireOldHolds() {
        long limitSeconds = config.quotas().holdSeconds();
        for (DomainHolds domain : domains.values()) {
            for (HeldConnection held : domain.connections()) {
                if (held.state() == HoldState.HOLDING && held.age().toSeconds() >= limitSeconds) {
                    HoldLifecycle.expire(domain, held).whenComplete((v, error) -> {
                        if (error == null) {
                            metrics.expired();
                        } else {
                            log.error("event=expire_failed domain={} flow={} error=\"{}\"", domain.name(), held.flow(),
                                    HoldLifecycle.cause(error).getMessage());
                        }
                    });
                }
            }
        }
    }

    /**
     * The daemon's stop (SIGTERM: {@code systemctl stop} or {@code restart}). With an fd keeper that
     * still answers and connections held, they are left to the keeper and their flows stay steered
     * ({@link #leaveToKeeper}), exactly as a crash leaves them, and the next start adopts them: a
     * restart for an upgrade must not cost the guests their connections. With nothing held, no
     * keeper, or {@code dropHeld} ({@code tcpferry hostd --drop-on-stop}), it is {@link #close}.
     */
    public void stop(boolean dropHeld) throws IOException {
        if (keeper != null && !dropHeld) {
            replaceLostKeeper(); // the copies must not be left to a keeper that died unnoticed
        }
        if (dropHeld || keeper == null || !keeper.connected() || heldCount() == 0) {
            close();
            return;
        }
        IOException failure = stopServing();
        awaitSettledHolds();
        if (heldCount() == 0) {
            dropAndRemoveEverything(failure); // the last ones were released while the endpoints closed
        } else {
            leaveToKeeper(failure);
        }
    }

    /**
     * The fd keeper was killed: this process still has every copy, so the holds go on; a new keeper
     * is started and every copy deposited again, so that they survive a restart again. Runs once a
     * second on the expiry thread; never throws (a failure is logged, the next round tries again).
     */
    private void replaceLostKeeper() {
        try {
            if (!keeper.reconnectIfLost()) {
                return;
            }
            int deposited = 0;
            for (DomainHolds domain : domains.values()) {
                deposited += domain.keepAllAgain().get(60, TimeUnit.SECONDS);
            }
            log.warn("event=keeper_replaced deposited={} held={}", deposited, heldCount());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.error("event=keeper_replace_failed error=\"{}\" consequence=\"held connections will not survive a restart of the host manager until a keeper takes their copies\"",
                    e.toString());
        }
    }

    private long heldCount() {
        return domains.values().stream().mapToLong(d -> d.connections().size()).sum();
    }

    /**
     * Closing the endpoints aborts every release granted but not confirmed (the requester's channel
     * closed), which holds the connection again; a handoff under way has lost its agent. Waits a
     * little for both to settle, so that the keeper gets copies that hold; whatever is still
     * mid-way after that is what a crash at that step leaves, which the next start handles too.
     */
    private void awaitSettledHolds() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SETTLE_SECONDS);
        while (System.nanoTime() < deadline && domains.values().stream().flatMap(d -> d.connections().stream())
                .anyMatch(held -> held.state() == HoldState.RESTORING || held.state() == HoldState.RELEASING)) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static final long SETTLE_SECONDS = 10;

    /**
     * Stops the copy loops without touching the copies and leaves the steering in the kernel: the
     * keeper's duplicates keep every copy alive when this process exits, as after a kill -9.
     */
    private void leaveToKeeper(IOException failure) throws IOException {
        for (DomainHolds domain : domains.values()) {
            for (HeldConnection held : domain.connections()) {
                log.info("event=left_to_keeper domain={} flow={} state={}", domain.name(), held.flow(), held.state());
            }
        }
        for (NamespaceRuntime runtime : runtimes.values()) {
            try {
                runtime.detach();
            } catch (IOException | RuntimeException e) {
                if (failure == null) {
                    failure = new IOException("stopping the copy loop of " + runtime.netns() + " failed", e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        keeper.close(); // it keeps the copies and waits for the next start
        log.warn("event=stopped_holding node={} held={} consequence=\"copies left with the fd keeper and steered; the next start adopts them\"",
                config.node(), heldCount());
        if (failure != null) {
            throw failure;
        }
    }

    /** Drops every held copy (silently: their peers will time out), then removes all steering. */
    @Override
    public void close() throws IOException {
        dropAndRemoveEverything(stopServing());
    }

    /** Stops taking orders and events: everything but the holds themselves. */
    private IOException stopServing() {
        IOException failure = null;
        expiry.shutdownNow();
        reclaims.shutdownNow();
        if (lifecycle != null) {
            try {
                lifecycle.close();
            } catch (IOException e) {
                failure = e;
            }
        }
        if (endpoints != null) {
            endpoints.close();
        }
        if (metricsServer != null) {
            metricsServer.close();
        }
        return failure;
    }

    private void dropAndRemoveEverything(IOException failure) throws IOException {
        List<CompletableFuture<Void>> drops = new ArrayList<>();
        for (DomainHolds domain : domains.values()) {
            for (HeldConnection held : domain.connections()) {
                log.warn("event=dropping domain={} flow={} state={} why=\"host manager stopping\"", domain.name(),
                        held.flow(), held.state());
                drops.add(HoldLifecycle.drop(domain, held, "host manager stopping"));
            }
        }
        try {
            CompletableFuture.allOf(drops.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            failure = new IOException("could not drop every held connection", e);
        }
        for (NamespaceRuntime runtime : runtimes.values()) {
            try {
                runtime.close();
            } catch (IOException | RuntimeException e) {
                if (failure == null) {
                    failure = new IOException("cleanup of " + runtime.netns() + " failed", e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (keeper != null) {
            keeper.close(); // it keeps nothing now, so it exits
        }
        log.info("event=stopped node={}", config.node());
        if (failure != null) {
            throw failure;
        }
    }

    /** {@code host:port}, {@code [v6]:port} or {@code :port} (all addresses). */
    public static InetSocketAddress parseHostPort(String text) {
        Objects.requireNonNull(text);
        int colon = text.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("expected host:port, got " + text);
        }
        String host = text.substring(0, colon);
        int port = Integer.parseInt(text.substring(colon + 1));
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return host.isEmpty() ? new InetSocketAddress(port) : new InetSocketAddress(host, port);
    }
}
