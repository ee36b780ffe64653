package org.tcpferry.host.hold;

import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.tcpferry.host.config.AddressSet;
import org.tcpferry.host.config.DomainConfig;
import org.tcpferry.protocol.FlowKey;

/** One domain's configuration, quota, namespace runtime and the connections held for it. */
public final class DomainHolds {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(DomainHolds.class);
    private final DomainConfig config;
    private final AddressSet addresses;
    private final SpoolQuota quota;
    private final NamespaceRuntime runtime;
    private final ConcurrentMap<FlowKey, HeldConnection> held = new ConcurrentHashMap<>();
    private volatile CopyKeeper keeper = CopyKeeper.NONE;

    public DomainHolds(DomainConfig config, SpoolQuota quota, NamespaceRuntime runtime) {
        this.config = config;
        this.addresses = config.addressSet();
        this.quota = quota;
        this.runtime = runtime;
    }

    public DomainConfig config() {
        return config;
    }

    public String name() {
        return config.name();
    }

    public AddressSet addresses() {
        return addresses;
    }

    public SpoolQuota quota() {
        return quota;
    }

    public NamespaceRuntime runtime() {
        return runtime;
    }

    /**
     * Adds {@code connection} unless its flow is already held; returns the one already held, or null.
     * A connection added is kept by the domain's {@link CopyKeeper} from its first copy on.
     */
    public HeldConnection putIfAbsent(HeldConnection connection) {
        HeldConnection existing = held.putIfAbsent(connection.flow(), connection);
        if (existing == null && keeper != CopyKeeper.NONE) {
            try {
                connection.keptBy(keeper);
            } catch (java.io.IOException e) {
                // The hold goes on; only a restart of the host manager would lose it.
                log.error("event=keeper_spool_failed domain={} flow={} error=\"{}\"", name(), connection.flow(),
                        e.getMessage());
            }
        }
        return existing;
    }

    /** Adds a connection rebuilt from a keeper's record ({@link Adoption}). */
    void adopted(HeldConnection connection) {
        held.put(connection.flow(), connection);
    }

    /** Where copies of this domain are kept across a restart of the host manager. */
    public void keeper(CopyKeeper keeper) {
        this.keeper = keeper;
    }

    public CopyKeeper keeper() {
        return keeper;
    }

    /**
     * Deposits every held copy with the keeper again (a new keeper after the old one died), each on
     * its namespace's copy loop. @return how many copies were sent, once all were
     */
    public java.util.concurrent.CompletableFuture<Integer> keepAllAgain() {
        java.util.List<java.util.concurrent.CompletableFuture<Boolean>> sent = new java.util.ArrayList<>();
        for (HeldConnection connection : held.values()) {
            sent.add(runtime.loop().submit(connection::keepAgain));
        }
        return java.util.concurrent.CompletableFuture.allOf(sent.toArray(java.util.concurrent.CompletableFuture[]::new))
                .thenApply(v -> (int) sent.stream().filter(java.util.concurrent.CompletableFuture::join).count());
    }

    public HeldConnection get(FlowKey flow) {
        return held.get(flow);
    }

    public void remove(HeldConnection connection) {
        held.remove(connection.flow(), connection);
    }

    public Collection<HeldConnection> connections() {
        return held.values();
    }
}
