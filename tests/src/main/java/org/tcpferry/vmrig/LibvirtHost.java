package org.tcpferry.vmrig;

import java.nio.file.Path;
import java.util.List;
import org.tcpferry.rig.Namespace;

/**
 * One libvirtd "hypervisor host" in its own network namespace, run by
 * {@code vm-images/libvirt/host-rig.sh} (private mount namespace, own /etc/libvirt, /var/lib/libvirt,
 * ..., hooks directory copied from {@code hooks} at start). {@link #stop()} kills libvirtd and every
 * QEMU it started.
 */
public final class LibvirtHost {
    private final Path repoRoot;
    private final Namespace namespace;
    private final Path state;
    private final String uri;

    private LibvirtHost(Path repoRoot, Namespace namespace, Path state, String uri) {
        this.repoRoot = repoRoot;
        this.namespace = namespace;
        this.state = state;
        this.uri = uri;
    }

    /** Starts libvirtd in {@code namespace}, listening for migration peers on {@code listenAddress}. */
    public static LibvirtHost start(Path repoRoot, Namespace namespace, Path state, String listenAddress, Path hooks) {
        Shell.check(120, script(repoRoot), "start", "--netns", namespace.name(), "--state", state.toString(),
                "--listen", listenAddress, "--hooks", hooks.toString());
        String uri = Shell.check(10, script(repoRoot), "uri", "--state", state.toString()).stdout().strip();
        return new LibvirtHost(repoRoot, namespace, state, uri);
    }

    /** The namespace this host's libvirtd, QEMUs and bridge live in. */
    public Namespace namespace() {
        return namespace;
    }

    /**
     * The command prefix that runs a command in this libvirtd's mount namespace, where paths are as
     * libvirtd sees them (its /var/lib/libvirt, /run/libvirt): a host manager that discovers domains
     * runs there, as it shares the machine's view with libvirtd on a real host.
     */
    public List<String> inMountNamespace() {
        try {
            String pid = java.nio.file.Files.readString(state.resolve("libvirtd.pid")).strip();
            return List.of("nsenter", "--target", pid, "--mount", "--");
        } catch (java.io.IOException e) {
            throw new IllegalStateException("libvirtd's pid file in " + state + " is unreadable: " + e.getMessage(), e);
        }
    }

    /** Local connection URI (a unix socket; usable from any namespace). */
    public String uri() {
        return uri;
    }

    /** {@code virsh -c URI ARGS...}; throws with its output when it fails. */
    public Shell.Result virsh(String... args) {
        String[] command = new String[args.length + 4];
        command[0] = "virsh";
        command[1] = "-q";
        command[2] = "-c";
        command[3] = uri;
        System.arraycopy(args, 0, command, 4, args.length);
        return Shell.check(180, command);
    }

    /** Path of a file libvirtd sees as {@code /var/log/libvirt/...}, {@code /var/lib/libvirt/...}, on this machine. */
    public Path hostPath(String instancePath) {
        return Path.of(Shell.check(10, script(repoRoot), "host-path", "--state", state.toString(), instancePath)
                .stdout().strip());
    }

    /** The domain's serial console log. */
    public Path consoleLog(String domain) {
        return state.resolve("log/libvirt/qemu/" + domain + "-console.log");
    }

    /** libvirtd's own log. */
    public Path daemonLog() {
        return state.resolve("log/libvirt/libvirtd.log");
    }

    /** Kills libvirtd and its QEMUs and removes the state directory. */
    public void stop() {
        Shell.check(60, script(repoRoot), "stop", "--state", state.toString());
    }

    private static String script(Path repoRoot) {
        return repoRoot.resolve("vm-images/libvirt/host-rig.sh").toString();
    }
}
