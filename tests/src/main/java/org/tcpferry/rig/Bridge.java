package org.tcpferry.rig;

/** A Linux bridge inside a rig {@link Namespace}, with a fixed MAC; made by {@link Namespace#addBridge}. */
public final class Bridge {
    private final String name;
    private final Namespace namespace;
    private final String mac;

    Bridge(String name, Namespace namespace, String mac) {
        this.name = name;
        this.namespace = namespace;
        this.mac = mac;
    }

    public String name() {
        return name;
    }

    public Namespace namespace() {
        return namespace;
    }

    /** The bridge's own fixed MAC: the address frames for the namespace's local stack carry. */
    public String mac() {
        return mac;
    }

    /** Adds {@code cidr} (IPv4, or IPv6 without duplicate address detection) to the bridge itself. */
    public Bridge addAddress(String cidr) {
        Interface.addAddress(namespace, name, cidr);
        return this;
    }

    @Override
    public String toString() {
        return namespace.name() + "/" + name;
    }
}
