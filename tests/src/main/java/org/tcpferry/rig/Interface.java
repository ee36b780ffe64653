package org.tcpferry.rig;

/**
 * One end of a veth made by the rig. The end a test usually holds is the one inside a namespace
 * ({@link Namespace#attach} or {@link Namespace#link}); its {@link #peer()} is the other end, which for
 * {@code attach} is a port of a bridge. State that changes (namespace, bridge, MAC) is tracked here
 * as the rig changes it, so it describes the link as it is now.
 */
public final class Interface {
    private final String name;
    private volatile Namespace namespace;
    private volatile String mac;
    private volatile Bridge bridge;
    private volatile Interface peer;

    Interface(String name, Namespace namespace, String mac, Bridge bridge) {
        this.name = name;
        this.namespace = namespace;
        this.mac = mac;
        this.bridge = bridge;
    }

    static void pair(Interface a, Interface b) {
        a.peer = b;
        b.peer = a;
    }

    public String name() {
        return name;
    }

    /** The namespace this end is in now (a bridge port moves with {@link #moveToBridge}). */
    public Namespace namespace() {
        return namespace;
    }

    public String mac() {
        return mac;
    }

    /** The other end of the veth. */
    public Interface peer() {
        return peer;
    }

    /** The bridge this end is a port of, or null. */
    public Bridge bridge() {
        return bridge;
    }

    /** Adds {@code cidr}; IPv6 addresses get {@code nodad} so they are usable at once. Idempotent. */
    public Interface addAddress(String cidr) {
        addAddress(namespace, name, cidr);
        return this;
    }

    static void addAddress(Namespace namespace, String device, String cidr) {
        // "replace" rather than "add": adding an address that is already there is not an error.
        String options = cidr.contains(":") ? " nodad" : "";
        namespace.ip("address replace " + cidr + " dev " + device + options + "\n");
    }

    public void setMac(String newMac) {
        namespace.ip("link set dev " + name + " address " + newMac + "\n");
        mac = newMac;
    }

    public void up() {
        namespace.ip("link set dev " + name + " up\n");
    }

    public void down() {
        namespace.ip("link set dev " + name + " down\n");
    }

    /**
     * Moves the bridge-side end of this veth (this end if it is a bridge port, else its peer) out of its
     * bridge and into {@code target}, leaving its namespace for the target's if they differ: a VM's tap
     * moving to another host. The end keeps its name and MAC and comes up in the new bridge. The link is
     * down while it moves, as a real migration's is; nothing is announced (see StandardTopology).
     */
    public synchronized void moveToBridge(Bridge target) {
        Interface port = bridgePort();
        if (port.bridge == target) {
            return;
        }
        Namespace from = port.namespace;
        Namespace to = target.namespace();
        if (from != to) {
            from.ip("link set dev " + port.name + " netns " + to.name() + "\n");
            from.unregister(port);
            port.namespace = to;
            to.register(port);
        }
        // Moving to another namespace already left the old bridge; "master" also switches bridges in place.
        to.ip("link set dev " + port.name + " master " + target.name() + "\n"
                + "link set dev " + port.name + " up\n");
        port.bridge = target;
    }

    /** Makes this end, already in the bridge's namespace, a port of {@code target}. */
    void enslave(Bridge target) {
        if (target.namespace() != namespace) {
            throw new RigException(this + " is not in the namespace of " + target);
        }
        namespace.ip("link set dev " + name + " master " + target.name() + "\n");
        bridge = target;
    }

    private Interface bridgePort() {
        if (bridge != null) {
            return this;
        }
        if (peer != null && peer.bridge != null) {
            return peer;
        }
        throw new RigException(this + " is not attached to a bridge on either end");
    }

    @Override
    public String toString() {
        return namespace.name() + "/" + name;
    }
}
