package org.tcpferry.host.hold;

import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.tcpferry.host.config.AddressSet;
import org.tcpferry.host.config.DomainConfig;
import org.tcpferry.protocol.FlowKey;

/** One domain's configuration, quota, namespace runtime and the connections held for it. */
public final class DomainHolds {
    private final DomainConfig config;
    private final AddressSet addresses;
    private final SpoolQuota quota;
    private final NamespaceRuntime runtime;
    private final ConcurrentMap<FlowKey, HeldConnection> held = new ConcurrentHashMap<>();

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

    /** Adds {@code connection} unless its flow is already held; returns the one already held, or null. */
    public HeldConnection putIfAbsent(HeldConnection connection) {
        return held.putIfAbsent(connection.flow(), connection);
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
