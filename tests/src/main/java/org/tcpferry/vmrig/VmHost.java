package org.tcpferry.vmrig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.tcpferry.rig.Bridge;
import org.tcpferry.rig.Namespace;

/**
 * One hypervisor "host" of the VM rig: a network namespace with bridge {@code br0} (same name on every
 * host, so the domain XML migrates unchanged) joined to the rig's switch, its own libvirtd
 * ({@link LibvirtHost}), the tcpferry libvirt hook, and a tcpferry host manager ({@link HostDaemon})
 * that knows the other hosts' managers as its peers (the relay, {@code --hold-on}).
 */
public final class VmHost {
    static final String BRIDGE = "br0";
    /**
     * Where the domain's channel socket is, as libvirtd sees it: fixed per domain, as {@code tcpferry
     * setup-domain} makes it (not under libvirt's channel/target, whose paths libvirt 9.0 drops).
     */
    static final String CHANNEL_DIR = "/var/lib/libvirt/qemu/";

    private final String name;
    private final String address;
    private final Namespace namespace;
    private final Path dir;
    private LibvirtHost libvirt;
    private HostDaemon daemon;

    private VmHost(String name, String address, Namespace namespace, Path dir) {
        this.name = name;
        this.address = address;
        this.namespace = namespace;
        this.dir = dir;
    }

    /**
     * Builds the host: namespace and bridge with {@code address}/24, an uplink port on {@code uplink}
     * (the switch), libvirtd with the hook, and hostd for {@code domain}.
     */
    static VmHost start(Path repoRoot, Namespace namespace, Bridge uplink, String name, String address, String bridgeMac,
            Path dir, String domain, String uuid, String guestAddress, String guestMac, List<HostDaemon.Peer> peers,
            boolean libvirtEvents) throws Exception {
        VmHost host = new VmHost(name, address, namespace, dir);
        Files.createDirectories(dir);
        namespace.addBridge(BRIDGE, bridgeMac).addAddress(address + "/24");
        namespace.attach(uplink, "uplink");
        namespace.exec("ip", "link", "set", "dev", "uplink", "master", BRIDGE);
        // libvirtd first, so that hostd can watch it from its start; the hook only needs the path of
        // hostd's control socket, and libvirt runs it at the first domain operation.
        Path hostdDir = dir.resolve("hostd");
        host.libvirt = LibvirtHost.start(repoRoot, namespace, dir.resolve("libvirt"), address,
                host.writeHooks(repoRoot, HostDaemon.controlSocketIn(hostdDir)));
        HostDaemon.Settings settings = new HostDaemon.Settings(name, domain, uuid, guestAddress, guestMac, BRIDGE,
                host.libvirt.hostPath(channelSocket(domain)), address, peers, libvirtEvents ? host.libvirt.uri() : null, false);
        host.daemon = HostDaemon.start(repoRoot, namespace, host.libvirt, hostdDir, settings);
        return host;
    }

    /** The domain's channel socket as libvirtd and QEMU see it. */
    static String channelSocket(String domain) {
        return CHANNEL_DIR + domain + ".org.tcpferry.agent.0";
    }

    /**
     * The libvirt hooks directory: a {@code qemu} wrapper that runs tcpferry's hook with this host's
     * control socket and log (libvirt clears the environment, and the machine-wide
     * /etc/tcpferry/hook.conf is not ours to change). When {@link #refuseIncomingMigrations} made its
     * marker, the wrapper then fails {@code migrate begin}, which makes libvirt cancel the incoming
     * migration (hooks.html): a migration that fails on the destination after the source handed off.
     */
    private Path writeHooks(Path repoRoot, Path controlSocket) throws IOException {
        Path hooks = dir.resolve("hooks");
        Files.createDirectories(hooks);
        Path hook = hooks.resolve("qemu");
        Files.writeString(hook, "#!/bin/sh\n"
                + "export TCPFERRY_CONTROL_SOCKET='" + controlSocket + "'\n"
                + "export TCPFERRY_HOOK_LOG='" + hookLog() + "'\n"
                + "export TCPFERRY_HOOK_TIMEOUT_MS=1000\n"
                + "export TCPFERRY_HOOK_CONF=/nonexistent\n"
                + "perl '" + repoRoot.resolve("libvirt-hooks/qemu") + "' \"$@\" || exit $?\n"
                + "if [ \"$2\" = migrate ] && [ -e '" + refuseMarker() + "' ]; then\n"
                + "    echo 'test rig: incoming migrations refused' >&2\n"
                + "    exit 1\n"
                + "fi\n");
        Files.setPosixFilePermissions(hook, PosixFilePermissions.fromString("rwxr-xr-x"));
        return hooks;
    }

    private Path refuseMarker() {
        return dir.resolve("refuse-incoming");
    }

    /** From now on (until {@link #acceptIncomingMigrations}) libvirt cancels every incoming migration here. */
    public void refuseIncomingMigrations() throws IOException {
        Files.writeString(refuseMarker(), "");
    }

    public void acceptIncomingMigrations() throws IOException {
        Files.deleteIfExists(refuseMarker());
    }

    public String name() {
        return name;
    }

    /** The host's address on the segment (libvirt's migration listener, hostd's peer endpoint). */
    public String address() {
        return address;
    }

    /** URI another libvirtd uses to migrate to this one. */
    public String migrationUri() {
        return "qemu+tcp://" + address + "/system";
    }

    public Namespace namespace() {
        return namespace;
    }

    public LibvirtHost libvirt() {
        return libvirt;
    }

    public HostDaemon daemon() {
        return daemon;
    }

    /** The tcpferry hook's log on this host (one line per libvirt hook call). */
    public Path hookLog() {
        return dir.resolve("hook.log");
    }

    /** Kills libvirtd and its QEMUs (hostd goes with the rig's namespaces). */
    void stop() throws InterruptedException {
        try {
            if (daemon != null) {
                daemon.stopForGood();
            }
        } finally {
            if (libvirt != null) {
                libvirt.stop();
            }
        }
    }
}
