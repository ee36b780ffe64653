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
import org.tcpferry.host.config.RememberedDomains;
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
 *
 * <p>Domains come from the config and, with libvirt enabled, from libvirt at start and whenever
 * libvirt reports one this host does not know yet (defined, started, resumed: the usual case is a
 * domain arriving by migration) or a control command names one ({@link #addDomain}). A domain is
 * never forgotten while the daemon runs: it may hold copies for a guest that left.
 */
public final class HostManager implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(HostManager.class);

    /** Grows when a domain is added at run time; each version is immutable. */
    private volatile HostConfig config;
    private final Map<Path, NamespaceRuntime> runtimes; // guarded by this (a null key: the daemon's own namespace)
    private final Map<String, DomainHolds> domains; // concurrent: read by every thread, added to by addDomain
    private final HandoffService handoffs;
    private final HostMetrics metrics;
    private MetricsServer metricsServer;
    private Endpoints endpoints;
    private LifecycleWatcher lifecycle;
    /** Null unless libvirt.handoffOnMigration. */
    private org.tcpferry.host.libvirt.OutgoingMigrations migrations;
    /** Keeps the copies across a restart; null when fdKeeperSocket is empty. */
    private KeeperClient keeper;
    private boolean closing; // guarded by this
    /** Checks once a second for holds older than quotas.holdSeconds (not started when that is 0). */
    private final java.util.concurrent.ScheduledExecutorService expiry =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread thread = new Thread(r, "hold-expiry");
                thread.setDaemon(true);
                return thread;
            });
    /** Looks up domains new to this host in libvirt, off libvirt's event thread and Netty's. */
    private final java.util.concurrent.ExecutorService discovery = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "libvirt-discovery");
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
        Map<String, DomainHolds> domains = new java.util.concurrent.ConcurrentSkipListMap<>();
        HostManager manager = null;
        KeeperClient keeper = config.fdKeeperSocket().isEmpty() ? null
                : KeeperClient.connectOrStart(Path.of(config.fdKeeperSocket()));
        try {
            List<KeeperClient.Kept> keptList = keeper == null ? List.of() : keeper.list();
            config = withRememberedDomainsOf(config, keptList);
            KeptCopies kept = keeper == null ? KeptCopies.NONE : KeptCopies.sort(config, keptList, keeper);
            for (DomainConfig domain : config.domains()) {
                domains.put(domain.name(), holdsFor(domain, config, runtimes, kept, keeper));
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
                manager.lifecycle = LifecycleWatcher.start(config.libvirt().uri(), manager::domainEvent);
                if (config.libvirt().handoffOnMigration()) {
                    manager.migrations = manager.watchOutgoingMigrations();
                }
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

    /**
     * A domain's holds, in the runtime of its namespace (started with the first domain there; at
     * start, {@code kept} names the flows a keeper still holds there, which stay steered).
     */
    private static DomainHolds holdsFor(DomainConfig domain, HostConfig config, Map<Path, NamespaceRuntime> runtimes,
            KeptCopies kept, KeeperClient keeper) throws IOException {
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
        return holds;
    }

    /**
     * Takes up a domain this host did not know: its holds (and its namespace's runtime if it is the
     * first there) and its guest channel. Returns false, changing nothing, when the domain is known.
     */
    public synchronized boolean addDomain(DomainConfig domain) throws IOException {
        if (closing) {
            throw new IllegalStateException("host manager " + config.node() + " is stopping; not adding " + domain.name());
        }
        if (domains.containsKey(domain.name())) {
            return false;
        }
        domains.put(domain.name(), holdsFor(domain, config, runtimes, KeptCopies.NONE, keeper));
        remember(config, List.of(domain));
        List<DomainConfig> all = new ArrayList<>(config.domains());
        all.add(domain);
        config = config.withDomains(all);
        endpoints.addGuestChannel(domain);
        log.info("event=domain_added domain={} uuid={} bridge={} addresses={} channel={}", domain.name(), domain.uuid(),
                domain.bridge(), domain.addresses(), domain.channel());
        return true;
    }

    /**
     * The holds of domain {@code name}; when this host does not know it and libvirt is enabled, asks
     * libvirt first ({@link #discover}). Completes with null when neither knows it, or libvirt's
     * domain is not set up for tcpferry (the log says why).
     */
    public CompletableFuture<DomainHolds> domainOrDiscover(String name) {
        DomainHolds known = domains.get(name);
        if (known != null || !config.libvirt().enabled() || name == null) {
            return CompletableFuture.completedFuture(known);
        }
        return CompletableFuture.supplyAsync(() -> discover(name), discovery);
    }

    /**
     * libvirt reports an event of domain {@code name}. Looks the domain up if this host does not know
     * it, then, when its guest runs again here, reclaims ({@link #guestRunsAgain}). On libvirt's event
     * thread: hands the work to the discovery thread, which keeps the events of a domain in order.
     */
    void domainEvent(String name, String event, boolean runsAgain) {
        discovery.execute(() -> {
            discover(name);
            if (runsAgain) {
                guestRunsAgain(name, event);
            }
        });
    }

    /** The domain's holds, looked up in libvirt and added when new; null when it cannot be held here. Discovery thread. */
    private DomainHolds discover(String name) {
        DomainHolds known = domains.get(name);
        if (known != null) {
            return known;
        }
        String uri = config.libvirt().uri();
        try (LibvirtSession session = LibvirtSession.open(uri)) {
            java.util.Optional<org.tcpferry.host.libvirt.DiscoveredDomain> found = session.discover(name);
            if (found.isEmpty()) {
                log.info("event=domain_unknown domain={} uri={} why=\"libvirt has no domain of that name\"", name, uri);
                return null;
            }
            List<DomainConfig> usable = DomainMerge.merge(List.of(), List.of(found.get()));
            if (usable.isEmpty()) {
                log.info("event=domain_not_set_up domain={} uri={} why=\"no {} channel with a socket path, or no bridge "
                        + "interface; see tcpferry setup-domain\"", name, uri, org.tcpferry.host.libvirt.DomainXml.AGENT_CHANNEL);
                return null;
            }
            addDomain(usable.get(0));
            return domains.get(name);
        } catch (IOException | RuntimeException e) {
            log.error("event=discovery_failed domain={} uri={} error=\"{}\"", name, uri, e.getMessage(), e);
            return null;
        }
    }

    /**
     * libvirt.handoffOnMigration: an outgoing migration of a domain whose agent is connected here
     * makes this host order a handoff, as {@code tcpferry handoff} would; if the migration ends with
     * the guest still here, a reclaim. After a completed migration the destination reclaims.
     */
    private org.tcpferry.host.libvirt.OutgoingMigrations watchOutgoingMigrations() {
        return org.tcpferry.host.libvirt.OutgoingMigrations.start(config.libvirt().uri(), MIGRATION_POLL_MILLIS,
                () -> domains.keySet().stream().filter(endpoints::agentConnected).toList(),
                new org.tcpferry.host.libvirt.OutgoingMigrations.Listener() {
                    @Override
                    public void migrationStarted(String domain) {
                        orderOnMigration(domain, "handoff", "migration_out_started");
                    }

                    @Override
                    public void migrationEndedHere(String domain) {
                        orderOnMigration(domain, "reclaim", "migration_out_ended_here");
                    }
                });
    }

    /** How often libvirt.handoffOnMigration looks at the jobs of the domains whose agent is here. */
    private static final long MIGRATION_POLL_MILLIS = 200;

    private void orderOnMigration(String domain, String verb, String why) {
        log.info("event={} domain={} action={}", why, domain, verb);
        endpoints.runControl(new ControlCommand(verb, Map.of("domain", domain))).whenComplete((reply, error) -> {
            if (error != null) {
                log.error("event=auto_{}_failed domain={} why={} error=\"{}\"", verb, domain, why, error.toString());
            } else if (reply instanceof ControlReply r) {
                log.info("event=auto_{} domain={} why={} exit={} result={}", verb, domain, why, r.exitCode(), r.json());
            }
        });
    }

    /**
     * Writes down domains learned from libvirt ({@link RememberedDomains}), so that a restart can still
     * hold their copies once libvirt has forgotten them. A failure is logged: the hold goes on, only a
     * restart would then have to drop those copies.
     */
    private static void remember(HostConfig config, List<DomainConfig> learned) {
        RememberedDomains memory = RememberedDomains.of(config);
        for (DomainConfig domain : learned) {
            try {
                memory.remember(domain);
            } catch (IOException e) {
                log.error("event=remember_domain_failed domain={} error=\"{}\" consequence=\"a restart while holding "
                        + "its copies would drop them if libvirt no longer knows it\"", domain.name(), e.getMessage());
            }
        }
    }

    /**
     * {@code config} plus, for every kept copy whose domain neither the config nor libvirt knows any
     * more, the domain as this host last learned it: typically a guest that migrated away, whose
     * copies this host holds while libvirt here has dropped its transient definition.
     */
    private static HostConfig withRememberedDomainsOf(HostConfig config, List<KeeperClient.Kept> kept) throws IOException {
        RememberedDomains memory = RememberedDomains.of(config);
        List<DomainConfig> all = new ArrayList<>(config.domains());
        for (String name : kept.stream().map(k -> k.record().domain()).distinct().toList()) {
            if (config.domain(name) == null) {
                java.util.Optional<DomainConfig> remembered = memory.recall(name);
                if (remembered.isPresent()) {
                    log.info("event=domain_remembered domain={} why=\"the fd keeper holds copies of it; neither the "
                            + "config nor libvirt knows it now\"", name);
                    all.add(remembered.get());
                }
            }
        }
        return all.size() == config.domains().size() ? config : config.withDomains(all);
    }

    /** The configured domains plus those libvirt knows and that are set up for tcpferry ({@link DomainMerge}). */
    private static HostConfig withDiscoveredDomains(HostConfig config) throws IOException {
        try (LibvirtSession session = LibvirtSession.open(config.libvirt().uri())) {
            HostConfig merged = config.withDomains(DomainMerge.merge(config.domains(), session.discover()));
            remember(config, merged.domains().stream().filter(d -> config.domain(d.name()) == null).toList());
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
        synchronized (this) {
            closing = true; // no domain is added from here on
        }
        discovery.shutdownNow();
        expiry.shutdownNow();
        if (migrations != null) {
            migrations.close();
        }
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
