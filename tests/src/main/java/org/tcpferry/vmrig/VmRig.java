package org.tcpferry.vmrig;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.tcpferry.rig.Bridge;
import org.tcpferry.rig.Namespace;
import org.tcpferry.rig.Rig;
import org.tcpferry.sys.LibC;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.SockOpt;

/**
 * A real VM under libvirt for end-to-end tests, usable as a JUnit fixture (create in
 * {@code @BeforeAll}, close in {@code @AfterAll}).
 *
 * <p>Topology, all inside namespaces of one {@link Rig} (unique {@code tf...} prefix):
 * <pre>
 *   host namespace: bridge br0 10.77.0.1/24, libvirtd (host-rig.sh), QEMU with the guest 10.77.0.2
 *                   on a tap of br0, tcpferry hostd for the domain, the tcpferry libvirt hook
 *   peer namespace: eth0 10.77.0.100/24 on br0 (same L2 segment), listening on port 5000
 * </pre>
 * The guest runs the image of {@code vm-images/build.sh} with its agent, and an echo client (see
 * {@link GuestImage}) that connects to the peer. {@link #close()} removes everything even after a
 * failure: the domain, libvirtd, QEMU, hostd, namespaces, and the work directory.
 */
public final class VmRig implements AutoCloseable {
    /** Guest, host and peer addresses on the segment. */
    public static final String HOST_ADDRESS = "10.77.0.1";
    public static final String GUEST_ADDRESS = "10.77.0.2";
    public static final String PEER_ADDRESS = "10.77.0.100";
    public static final int PEER_PORT = 5000;
    private static final String BRIDGE = "br0";
    private static final String GUEST_MAC = "52:54:00:77:00:02";

    private final Rig rig;
    private final Path repoRoot;
    private final Path work;
    private final String domain;
    private final List<LibvirtHost> hosts = new ArrayList<>();
    private Namespace hostNamespace;
    private Namespace peerNamespace;
    private HostDaemon hostDaemon;
    private LibvirtHost host;
    private NativeSocket listener;
    private long bootMillis;
    private long agentReadyMillis;

    private VmRig(Rig rig, Path repoRoot, Path work) {
        this.rig = rig;
        this.repoRoot = repoRoot;
        this.work = work;
        this.domain = rig.prefix() + "-guest";
    }

    /**
     * Builds everything and boots the guest; returns when the guest printed its ready line. Throws
     * with the reason when a tool is missing (VM tests fail rather than skip) or a step fails, after
     * removing what was made.
     */
    public static VmRig start(String purpose) throws Exception {
        Path repoRoot = findRepoRoot();
        Prerequisites.check(repoRoot);
        Rig rig = Rig.create(purpose);
        Path work = Files.createTempDirectory(rig.prefix() + "-vm");
        VmRig vm = new VmRig(rig, repoRoot, work);
        try {
            vm.build();
            return vm;
        } catch (Exception | Error e) {
            try {
                vm.close();
            } catch (RuntimeException | Error cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    private void build() throws Exception {
        GuestImage image = GuestImage.build(repoRoot, work, PEER_ADDRESS, PEER_PORT);
        hostNamespace = rig.namespace("hosta");
        Bridge bridge = hostNamespace.addBridge(BRIDGE, "02:77:00:00:00:01");
        bridge.addAddress(HOST_ADDRESS + "/24");
        peerNamespace = rig.namespace("peer");
        peerNamespace.attach(bridge, "eth0").addAddress(PEER_ADDRESS + "/24");
        listener = listen();

        String uuid = UUID.randomUUID().toString();
        hostDaemon = HostDaemon.start(repoRoot, hostNamespace, work.resolve("hostd-a"), "hosta", domain, uuid,
                GUEST_ADDRESS, BRIDGE);
        host = LibvirtHost.start(repoRoot, hostNamespace, work.resolve("libvirt-a"), HOST_ADDRESS,
                writeHooks(hostDaemon));
        hosts.add(host);

        Path xml = work.resolve("domain.xml");
        Files.writeString(xml, Shell.check(10, repoRoot.resolve("vm-images/libvirt/render-domain.sh").toString(),
                "NAME=" + domain, "UUID=" + uuid, "MEMORY_MIB=512", "KERNEL=" + image.vmlinux(),
                "INITRD=" + image.initrd(),
                "CMDLINE=" + image.cmdline() + " tcpferry.ip=" + GUEST_ADDRESS + "/24 tcpferry.gw=" + HOST_ADDRESS
                        + " tcpferry.hostname=" + domain,
                "BRIDGE=" + BRIDGE, "MAC=" + GUEST_MAC).stdout());
        host.virsh("define", xml.toString());
        long start = System.nanoTime();
        host.virsh("start", domain);
        waitForConsole("tcpferry-guest ready", 1, 120);
        bootMillis = (System.nanoTime() - start) / 1_000_000;
        // Only let hostd connect once the agent has opened its port: what the host writes into the
        // channel before that (its Hello) is lost to the agent, which then waits for a Hello forever
        // while the host believes the session is up (seen here: the agent's first session ends with
        // "Illegal seek" and the reopened one never hears from the host).
        waitForConsole("event=channel_open channel=/dev/virtio-ports/", 1, 120);
        agentReadyMillis = (System.nanoTime() - start) / 1_000_000;
        hostDaemon.pointChannelAt(host.channelPath(domain));
    }

    /**
     * The libvirt hooks directory: a {@code qemu} wrapper that runs tcpferry's hook with this rig's
     * control socket and log (libvirt clears the environment, and the machine-wide
     * /etc/tcpferry/hook.conf is not ours to change).
     */
    private Path writeHooks(HostDaemon daemon) throws IOException {
        Path hooks = work.resolve("hooks-a");
        Files.createDirectories(hooks);
        Path hook = hooks.resolve("qemu");
        Files.writeString(hook, "#!/bin/sh\n"
                + "export TCPFERRY_CONTROL_SOCKET='" + daemon.controlSocket() + "'\n"
                + "export TCPFERRY_HOOK_LOG='" + hookLog() + "'\n"
                + "export TCPFERRY_HOOK_TIMEOUT_MS=1000\n"
                + "export TCPFERRY_HOOK_CONF=/nonexistent\n"
                + "exec perl '" + repoRoot.resolve("libvirt-hooks/qemu") + "' \"$@\"\n");
        Files.setPosixFilePermissions(hook, PosixFilePermissions.fromString("rwxr-xr-x"));
        return hooks;
    }

    private NativeSocket listen() throws Exception {
        InetAddress address = InetAddress.getByName(PEER_ADDRESS);
        return peerNamespace.netns().call(() -> {
            NativeSocket s = NativeSocket.tcp(LibC.AF_INET);
            s.setInt(SockOpt.SO_REUSEADDR, 1);
            s.bind(new InetSocketAddress(address, PEER_PORT));
            s.listen(4);
            return s;
        });
    }

    /** Waits up to {@code timeoutSeconds} for the guest's echo client and returns the streaming peer. */
    public EchoPeer acceptConnection(long timeoutSeconds) throws Exception {
        long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
        while ((listener.poll((short) LibC.POLLIN, 200) & LibC.POLLIN) == 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the guest's echo client did not connect within " + timeoutSeconds
                        + " s; console:\n" + consoleTail());
            }
        }
        return new EchoPeer(listener.accept());
    }

    /** Waits until the console log holds {@code text} at least {@code occurrences} times. */
    public void waitForConsole(String text, int occurrences, long timeoutSeconds) throws Exception {
        Path console = host.consoleLog(domain);
        long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
        while (true) {
            if (Files.exists(console)) {
                String log = Files.readString(console, java.nio.charset.StandardCharsets.ISO_8859_1);
                int count = 0;
                for (int i = log.indexOf(text); i >= 0; i = log.indexOf(text, i + 1)) {
                    count++;
                }
                if (count >= occurrences) {
                    return;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("'" + text + "' not on the console within " + timeoutSeconds
                        + " s; console:\n" + consoleTail());
            }
            Thread.sleep(200);
        }
    }

    /** {@code virsh save} to a file in the host's libvirt state; returns the virsh wall time in ms. */
    public long save() {
        return host.virsh("save", domain, saveFile()).millis();
    }

    /** {@code virsh restore} of {@link #save()}'s file, then repoints hostd at the new channel; virsh wall time in ms. */
    public long restore() throws IOException {
        long millis = host.virsh("restore", saveFile()).millis();
        hostDaemon.pointChannelAt(host.channelPath(domain));
        return millis;
    }

    private String saveFile() {
        return "/var/lib/libvirt/" + domain + ".save";
    }

    /** The domain's host manager. */
    public HostDaemon hostDaemon() {
        return hostDaemon;
    }

    /** The libvirt host running the domain. */
    public LibvirtHost host() {
        return host;
    }

    /** The domain name. */
    public String domain() {
        return domain;
    }

    /** {@code virsh start} to the guest's ready line, ms. */
    public long bootMillis() {
        return bootMillis;
    }

    /** {@code virsh start} to the agent's channel being open, ms. */
    public long agentReadyMillis() {
        return agentReadyMillis;
    }

    /** The tcpferry hook's log (one line per libvirt hook call). */
    public Path hookLog() {
        return work.resolve("hook.log");
    }

    /** The last lines of the console, hostd's log and the hook log, for failure messages. */
    public String diagnostics() {
        StringBuilder out = new StringBuilder();
        out.append("---- console\n").append(consoleTail());
        for (Path file : new Path[] {hostDaemon == null ? null : hostDaemon.log(), hookLog()}) {
            if (file != null && Files.exists(file)) {
                out.append("---- ").append(file).append('\n').append(tail(file, 30));
            }
        }
        return out.toString();
    }

    private String consoleTail() {
        return host == null ? "(no host)" : tail(host.consoleLog(domain), 30);
    }

    private static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file, java.nio.charset.StandardCharsets.ISO_8859_1);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size())) + "\n";
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e + ")\n";
        }
    }

    /** Stops libvirt hosts (domain, QEMU), hostd and the namespaces, and deletes the work directory. */
    @Override
    public void close() {
        // Every step runs even when an earlier one failed, so nothing is left behind needlessly.
        List<Throwable> problems = new ArrayList<>();
        if (listener != null) {
            try {
                listener.close();
            } catch (Exception e) {
                problems.add(new IllegalStateException("closing the peer listener", e));
            }
        }
        try {
            keepLogs();
        } catch (IOException | RuntimeException e) {
            problems.add(e);
        }
        for (LibvirtHost h : hosts) {
            try {
                h.stop();
            } catch (RuntimeException | Error e) {
                problems.add(e);
            }
        }
        try {
            rig.close();
        } catch (RuntimeException | Error e) {
            problems.add(e);
        }
        try (Stream<Path> files = Files.walk(work)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            problems.add(new IllegalStateException("deleting " + work, e));
        }
        if (!problems.isEmpty()) {
            IllegalStateException summary = new IllegalStateException("VM rig cleaned up with problems: " + problems);
            problems.forEach(summary::addSuppressed);
            throw summary;
        }
    }

    /**
     * Copies the console, hostd, hook and libvirtd logs to {@code target/vm-logs/<prefix>/} (under
     * the test's working directory, the module) before the work directory goes: a failed run stays
     * diagnosable after the rig is gone.
     */
    private void keepLogs() throws IOException {
        Path keep = Path.of("target", "vm-logs", rig.prefix()).toAbsolutePath();
        Files.createDirectories(keep);
        List<Path> logs = new ArrayList<>(List.of(hookLog()));
        if (hostDaemon != null) {
            logs.add(hostDaemon.log());
        }
        for (LibvirtHost h : hosts) {
            logs.add(h.consoleLog(domain));
            logs.add(h.daemonLog());
        }
        int n = 0;
        for (Path log : logs) {
            if (Files.isRegularFile(log)) {
                Files.copy(log, keep.resolve((n++) + "-" + log.getFileName()),
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    private static Path findRepoRoot() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("vm-images/build.sh")) && Files.isRegularFile(dir.resolve("bin/tcpferry"))) {
                return dir;
            }
        }
        throw new IllegalStateException("no tcpferry checkout (vm-images/build.sh, bin/tcpferry) above "
                + Path.of("").toAbsolutePath());
    }
}
