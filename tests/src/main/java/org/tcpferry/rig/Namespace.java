package org.tcpferry.rig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tcpferry.netns.NetNamespace;

/**
 * One network namespace of a {@link Rig}, named {@code <prefix>-<role>}. Commands run in it through
 * {@code nsenter --net=/run/netns/<name>}, which enters only the network namespace; {@code ip netns
 * exec} would also remount /sys and hide the cgroup files that some tests freeze processes with.
 * Java code runs in it through {@link #netns()}.
 */
public final class Namespace {
    /** Set in every new namespace: quiet, predictable IPv6 and no routing unless a test asks for it. */
    private static final Map<String, String> DEFAULT_SYSCTLS = defaultSysctls();

    private final Rig rig;
    private final String role;
    private final String name;
    private final Map<String, Bridge> bridges = new HashMap<>();
    private final Map<String, Interface> interfaces = new HashMap<>();

    Namespace(Rig rig, String role, String name) {
        this.rig = rig;
        this.role = role;
        this.name = name;
    }

    private static Map<String, String> defaultSysctls() {
        Map<String, String> sysctls = new LinkedHashMap<>();
        sysctls.put("net.ipv4.ip_forward", "0");
        sysctls.put("net.ipv6.conf.all.forwarding", "0");
        // Addresses must be usable at once: no duplicate address detection, also for link-local ones.
        sysctls.put("net.ipv6.conf.all.accept_dad", "0");
        sysctls.put("net.ipv6.conf.default.accept_dad", "0");
        // A guest link that goes down and up again (a restore target) keeps its IPv6 addresses, like IPv4.
        sysctls.put("net.ipv6.conf.all.keep_addr_on_down", "1");
        sysctls.put("net.ipv6.conf.default.keep_addr_on_down", "1");
        return sysctls;
    }

    /** Loopback up and the default sysctls; called once, right after {@code ip netns add}. */
    void initialise() {
        ip("link set dev lo up\n");
        try {
            netns().run(() -> {
                for (Map.Entry<String, String> sysctl : DEFAULT_SYSCTLS.entrySet()) {
                    writeSysctl(sysctl.getKey(), sysctl.getValue());
                }
            });
        } catch (IOException e) {
            throw new RigException("cannot set the default sysctls in " + name + ": " + e.getMessage(), e);
        }
    }

    /** {@code <prefix>-<role>}, as {@code ip netns list} shows it. */
    public String name() {
        return name;
    }

    public String role() {
        return role;
    }

    public Rig rig() {
        return rig;
    }

    /** The namespace for Java code: {@code netns().call(...)} runs a job on a thread inside it. */
    public NetNamespace netns() {
        return NetNamespace.named(name);
    }

    /** {@code /run/netns/<name>}. */
    public Path file() {
        return Rig.namespaceFile(name);
    }

    /**
     * A bridge {@code bridgeName} in this namespace with the fixed MAC {@code mac} (a bridge without one
     * takes its lowest port's MAC, which changes when a port leaves), up, forward delay 0, no STP and no
     * multicast snooping (which would otherwise filter IPv6 neighbour discovery until a querier appears).
     * Asking again for the same name and MAC returns the same bridge.
     */
    public synchronized Bridge addBridge(String bridgeName, String mac) {
        rig.ensureOpen();
        Bridge existing = bridges.get(bridgeName);
        if (existing != null) {
            if (!existing.mac().equalsIgnoreCase(mac)) {
                throw new RigException("bridge " + bridgeName + " in " + name + " already exists with MAC " + existing.mac());
            }
            return existing;
        }
        ip("link add name " + bridgeName + " address " + mac
                + " type bridge forward_delay 0 stp_state 0 mcast_snooping 0\n"
                + "link set dev " + bridgeName + " up\n");
        Bridge bridge = new Bridge(bridgeName, this, mac);
        bridges.put(bridgeName, bridge);
        return bridge;
    }

    /**
     * A veth whose end {@code ifname} is in this namespace and whose other end, with a generated name,
     * is a port of {@code bridge} (in the bridge's namespace); both ends up, each with its own generated
     * MAC. Returns this namespace's end; {@link Interface#peer()} is the bridge port. Attaching the same
     * name to the same bridge again returns the same interface.
     */
    public Interface attach(Bridge bridge, String ifname) {
        return attach(bridge, ifname, rig.newMac(), true);
    }

    /** {@link #attach(Bridge, String)} with a chosen MAC for this namespace's end. */
    public Interface attach(Bridge bridge, String ifname, String mac) {
        return attach(bridge, ifname, mac, true);
    }

    /** The attach itself; {@code up} false leaves this namespace's end down (the bridge port is up). */
    Interface attach(Bridge bridge, String ifname, String mac, boolean up) {
        requireSameRig(bridge.namespace());
        Interface existing = existingInterface(ifname);
        if (existing != null) {
            if (existing.peer() == null || existing.peer().bridge() != bridge) {
                throw new RigException(ifname + " already exists in " + name + " and is not attached to " + bridge);
            }
            return existing;
        }
        String port = rig.newLinkName();
        String portMac = rig.newMac();
        bridge.namespace().ip("link add name " + port + " address " + portMac + " master " + bridge.name()
                + " type veth peer name " + ifname + " address " + mac + " netns " + name + "\n"
                + "link set dev " + port + " up\n");
        Interface end = register(new Interface(ifname, this, mac, null));
        Interface bridgePort = bridge.namespace().register(new Interface(port, bridge.namespace(), portMac, bridge));
        Interface.pair(end, bridgePort);
        if (up) {
            ip("link set dev " + ifname + " up\n");
        }
        return end;
    }

    /**
     * A plain veth pair, both ends up: {@code ifname} here, {@code otherIfname} in {@code other}. Returns
     * this namespace's end; {@link Interface#peer()} is the other.
     */
    public Interface link(Namespace other, String ifname, String otherIfname) {
        requireSameRig(other);
        if (existingInterface(ifname) != null || other.existingInterface(otherIfname) != null) {
            throw new RigException("cannot link " + name + "/" + ifname + " to " + other.name() + "/" + otherIfname
                    + ": a link of that name exists");
        }
        String mac = rig.newMac();
        String otherMac = rig.newMac();
        String batch = "link add name " + ifname + " address " + mac
                + " type veth peer name " + otherIfname + " address " + otherMac + " netns " + other.name() + "\n"
                + "link set dev " + ifname + " up\n";
        if (other == this) {
            ip(batch + "link set dev " + otherIfname + " up\n");
        } else {
            ip(batch);
        }
        Interface end = register(new Interface(ifname, this, mac, null));
        Interface otherEnd = other.register(new Interface(otherIfname, other, otherMac, null));
        Interface.pair(end, otherEnd);
        if (other != this) {
            other.ip("link set dev " + otherIfname + " up\n");
        }
        return end;
    }

    /** Runs {@code command} inside this namespace and waits; a RigException when it exits non-zero. */
    public ExecResult exec(String... command) {
        return Commands.check(inside(command), null);
    }

    /** Runs {@code command} inside this namespace and waits, whatever its exit code. */
    public ExecResult execAllowFailure(String... command) {
        return Commands.run(inside(command), null);
    }

    /** Runs {@code command} inside this namespace with {@code stdin} as its input; throws when it fails. */
    public ExecResult execWithInput(String stdin, String... command) {
        return Commands.check(inside(command), stdin);
    }

    /** Loads {@code script} with {@code nft -f -} inside this namespace (one atomic transaction). */
    public void nft(String script) {
        execWithInput(script, "nft", "-f", "-");
    }

    /**
     * Starts {@code command} inside this namespace in the background. The rig kills it (SIGTERM, then
     * SIGKILL after 2 s) and waits for it when it closes. Its stdin, stdout and stderr are pipes: read
     * the output, or a command that writes more than a pipe holds (64 KiB) blocks.
     */
    public Process spawn(String... command) {
        rig.ensureOpen();
        Process process = Commands.start(inside(command));
        rig.registerSpawned(process);
        return process;
    }

    /** Sets sysctl {@code key} (dotted, {@code net.ipv4.ip_forward}) in this namespace. */
    public void sysctl(String key, String value) {
        try {
            netns().run(() -> writeSysctl(key, value));
        } catch (IOException | RuntimeException e) {
            throw new RigException("cannot set " + key + "=" + value + " in " + name + ": " + e.getMessage(), e);
        }
    }

    /** Reads sysctl {@code key} (dotted) in this namespace. */
    public String sysctl(String key) {
        try {
            return netns().call(() -> ProcFiles.read(sysctlFile(key)));
        } catch (IOException | RuntimeException e) {
            throw new RigException("cannot read " + key + " in " + name + ": " + e.getMessage(), e);
        }
    }

    /**
     * /proc/sys/net resolves against the network namespace of the thread that opens it, so a thread
     * inside the namespace can write it directly: no process to spawn per sysctl.
     */
    private static void writeSysctl(String key, String value) throws IOException {
        Files.writeString(sysctlFile(key), value);
    }

    /** Dotted sysctl name to its file; a key containing '/' is taken as a path already, like sysctl(8). */
    private static Path sysctlFile(String key) {
        String relative = key.contains("/") ? key : key.replace('.', '/');
        return Path.of("/proc/sys", relative);
    }

    /** Runs {@code ip -batch -} inside this namespace: several changes for the cost of one process. */
    void ip(String batch) {
        execWithInput(batch, "ip", "-batch", "-");
    }

    synchronized Interface register(Interface link) {
        interfaces.put(link.name(), link);
        return link;
    }

    synchronized void unregister(Interface link) {
        interfaces.remove(link.name(), link);
    }

    private synchronized Interface existingInterface(String ifname) {
        return interfaces.get(ifname);
    }

    /** The interfaces the rig made in this namespace (bridges excluded). */
    public synchronized List<Interface> interfaces() {
        return new ArrayList<>(interfaces.values());
    }

    private void requireSameRig(Namespace other) {
        rig.ensureOpen();
        if (other.rig() != rig) {
            throw new RigException(other.name() + " belongs to another rig than " + name);
        }
    }

    private List<String> inside(String... command) {
        List<String> full = new ArrayList<>(command.length + 2);
        full.add(Tools.require("nsenter"));
        full.add("--net=" + file());
        full.addAll(List.of(command));
        return full;
    }

    @Override
    public String toString() {
        return name;
    }
}
