package org.tcpferry.vmrig;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * A real VM under libvirt on one or two hypervisor hosts, for end-to-end tests, usable as a JUnit
 * fixture (create in {@code @BeforeAll}, close in {@code @AfterAll}).
 *
 * <p>Topology, all inside namespaces of one {@link Rig} (unique {@code tf...} prefix), one L2 segment:
 * <pre>
 *   switch namespace: bridge sw0, one port per host uplink and one for the peer
 *   host namespace "hosta" (and "hostb"): bridge br0 10.77.0.1/24 (10.77.0.12/24) with an uplink to sw0,
 *                   libvirtd (host-rig.sh), tcpferry hostd for the domain (peer endpoint on the
 *                   host address, port {@value HostDaemon#PEER_PORT}), the tcpferry libvirt hook
 *   guest:          10.77.0.2 on a tap of br0 of the host that runs it (starts on host A)
 *   peer namespace: eth0 10.77.0.100/24 on sw0, listening on port 5000
 * </pre>
 * The guest runs the image of {@code vm-images/build.sh} with its agent, and an echo client (see
 * {@link GuestImage}) that connects to the peer. {@link #close()} removes everything even after a
 * failure: the domain, libvirtd, QEMU, hostd, namespaces, and the work directory.
 */
public final class VmRig implements AutoCloseable {
    public static final String GUEST_ADDRESS = "10.77.0.2";
    public static final String PEER_ADDRESS = "10.77.0.100";
    public static final int PEER_PORT = 5000;
    private static final String[] HOST_ADDRESSES = {"10.77.0.1", "10.77.0.12"};
    private static final String GUEST_MAC = "52:54:00:77:00:02";

    /**
     * How the rig is built.
     *
     * @param hosts 1 or 2 hypervisor hosts
     * @param libvirtEvents whether each hostd watches its libvirtd (discovery, automatic reclaim on events)
     */
    public record Options(int hosts, boolean libvirtEvents) {
        public Options {
            if (hosts < 1 || hosts > HOST_ADDRESSES.length) {
                throw new IllegalArgumentException("1 or 2 hosts, not " + hosts);
            }
        }
    }

    private final Rig rig;
    private final Path repoRoot;
    private final Path work;
    private final String domain;
    private final String uuid = UUID.randomUUID().toString();
    private final List<VmHost> hosts = new ArrayList<>();
    private Namespace peerNamespace;
    private NativeSocket listener;
    private VmHost running;
    private long bootMillis;
    private long agentReadyMillis;

    private VmRig(Rig rig, Path repoRoot, Path work) {
        this.rig = rig;
        this.repoRoot = repoRoot;
        this.work = work;
        this.domain = rig.prefix() + "-guest";
    }

    /** One host, no libvirt events in hostd. */
    public static VmRig start(String purpose) throws Exception {
        return start(purpose, new Options(1, false));
    }

    /**
     * Builds everything and boots the guest on the first host; returns when the agent has opened its
     * channel. Throws with the reason when a tool is missing (VM tests fail rather than skip) or a step
     * fails, after removing what was made.
     */
    public static VmRig start(String purpose, Options options) throws Exception {
        Path repoRoot = findRepoRoot();
        Prerequisites.check(repoRoot);
        Rig rig = Rig.create(purpose);
        Path work = Files.createTempDirectory(rig.prefix() + "-vm");
        VmRig vm = new VmRig(rig, repoRoot, work);
        try {
            vm.build(options);
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

    private void build(Options options) throws Exception {
        GuestImage image = GuestImage.build(repoRoot, work, PEER_ADDRESS, PEER_PORT);
        Bridge segment = rig.namespace("switch").addBridge("sw0", "02:77:00:00:00:fe");
        peerNamespace = rig.namespace("peer");
        peerNamespace.attach(segment, "eth0").addAddress(PEER_ADDRESS + "/24");
        listener = listen();
        for (int i = 0; i < options.hosts(); i++) {
            List<HostDaemon.Peer> peers = new ArrayList<>();
            for (int other = 0; other < options.hosts(); other++) {
                if (other != i) {
                    peers.add(new HostDaemon.Peer(hostName(other), HOST_ADDRESSES[other] + ":" + HostDaemon.PEER_PORT));
                }
            }
            hosts.add(VmHost.start(repoRoot, rig.namespace(hostName(i)), segment, hostName(i), HOST_ADDRESSES[i],
                    "02:77:00:00:00:0" + (i + 1), work.resolve(hostName(i)), domain, uuid, GUEST_ADDRESS, GUEST_MAC,
                    peers, options.libvirtEvents()));
        }
        running = hosts.get(0);

        Path xml = work.resolve("domain.xml");
        String rendered = Shell.check(10, repoRoot.resolve("vm-images/libvirt/render-domain.sh").toString(),
                "NAME=" + domain, "UUID=" + uuid, "MEMORY_MIB=512", "KERNEL=" + image.vmlinux(),
                "INITRD=" + image.initrd(),
                "CMDLINE=" + image.cmdline() + " tcpferry.ip=" + GUEST_ADDRESS + "/24 tcpferry.gw=" + HOST_ADDRESSES[0]
                        + " tcpferry.hostname=" + domain,
                "BRIDGE=" + VmHost.BRIDGE, "MAC=" + GUEST_MAC).stdout();
        Files.writeString(xml, rendered);
        running.libvirt().virsh("define", xml.toString());
        // As an operator sets a domain up: a fixed channel path (the same on every host and after every
        // restore; libvirt's generated one names the domain id) and the guest's address in <metadata>,
        // from which a host manager with libvirt learns the domain.
        Shell.Result setup = Shell.check(120, repoRoot.resolve("bin/tcpferry").toString(), "setup-domain", "--connect",
                running.libvirt().uri(), "--address", GUEST_ADDRESS, domain);
        if (!running.libvirt().virsh("dumpxml", "--inactive", domain).stdout().contains(VmHost.channelSocket(domain))) {
            throw new IllegalStateException("setup-domain did not give the channel its path:\n" + setup.stdout());
        }
        long start = System.nanoTime();
        running.libvirt().virsh("start", domain);
        waitForConsole("tcpferry-guest ready", 1, 120);
        bootMillis = (System.nanoTime() - start) / 1_000_000;
        waitForConsole("event=channel_open channel=/dev/virtio-ports/", 1, 120);
        agentReadyMillis = (System.nanoTime() - start) / 1_000_000;
    }

    private static String hostName(int index) {
        return "host" + (char) ('a' + index);
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
                        + " s\n" + diagnostics());
            }
        }
        return new EchoPeer(listener.accept());
    }

    /** Waits until the peer has had more than {@code echoed} bytes echoed back; fails on a peer failure. */
    public void awaitEchoBeyond(EchoPeer peer, long echoed, long timeoutSeconds) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
        while (peer.echoed() <= echoed) {
            if (peer.failure() != null) {
                throw new AssertionError("peer failed: " + peer.failure() + "\n" + diagnostics());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no echo beyond " + echoed + " bytes within " + timeoutSeconds + " s\n"
                        + diagnostics());
            }
            Thread.sleep(100);
        }
    }

    /** Waits until the console of the host running the guest holds {@code text} at least {@code occurrences} times. */
    public void waitForConsole(String text, int occurrences, long timeoutSeconds) throws Exception {
        Path console = running.libvirt().consoleLog(domain);
        long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
        while (count(console, text) < occurrences) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("'" + text + "' not on the console within " + timeoutSeconds + " s\n"
                        + diagnostics());
            }
            Thread.sleep(200);
        }
    }

    /** How often {@code text} is on the console of the host running the guest. */
    public int consoleCount(String text) throws IOException {
        return count(running.libvirt().consoleLog(domain), text);
    }

    private static int count(Path file, String text) throws IOException {
        if (!Files.exists(file)) {
            return 0;
        }
        String log = Files.readString(file, StandardCharsets.ISO_8859_1);
        int count = 0;
        for (int i = log.indexOf(text); i >= 0; i = log.indexOf(text, i + 1)) {
            count++;
        }
        return count;
    }

    /** {@code virsh save} on the host running the guest, to {@link #saveFile()}; virsh wall time in ms. */
    public long save() {
        return running.libvirt().virsh("save", domain, saveFile().toString()).millis();
    }

    /** {@code virsh restore} of {@link #saveFile()} on {@code host}, which then runs the guest; virsh wall ms. */
    public long restoreOn(VmHost host) {
        long millis = host.libvirt().virsh("restore", saveFile().toString()).millis();
        running = host;
        return millis;
    }

    /**
     * The save image: in the work directory, outside the libvirtd instances' private mounts, so every
     * host's libvirtd and the CLI see it at the same path (a save on one host restores on another).
     */
    public Path saveFile() {
        return work.resolve(domain + ".save");
    }

    /** Records that the guest now runs on {@code host} (after a migration). */
    public void runsOn(VmHost host) {
        running = host;
    }

    /** The host running the guest. */
    public VmHost running() {
        return running;
    }

    /** Host A (index 0) or B (1). */
    public VmHost host(int index) {
        return hosts.get(index);
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

    /** The last lines of each host's console, hostd log and hook log, for failure messages. */
    public String diagnostics() {
        StringBuilder out = new StringBuilder();
        for (VmHost host : hosts) {
            out.append("==== ").append(host.name()).append(host == running ? " (runs the guest)" : "").append('\n');
            for (Path file : new Path[] {host.libvirt() == null ? null : host.libvirt().consoleLog(domain),
                    host.daemon() == null ? null : host.daemon().log(), host.hookLog()}) {
                if (file != null && Files.exists(file)) {
                    out.append("---- ").append(file).append('\n').append(tail(file, 30));
                }
            }
        }
        return out.toString();
    }

    private static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.ISO_8859_1);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size())) + "\n";
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e + ")\n";
        }
    }

    /** One line of a test's report on stdout (kept in surefire's output and in CI logs). */
    public static void report(String line) {
        System.out.println("vm-test: " + line);
    }

    /** Stops hostd, libvirtd and QEMU on every host, the namespaces, and deletes the work directory. */
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
        for (VmHost h : hosts) {
            try {
                h.stop();
            } catch (Exception | Error e) {
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
     * Copies each host's console, hostd, hook and libvirtd logs to {@code target/vm-logs/<prefix>/}
     * (under the test's working directory, the module) before the work directory goes: a failed run
     * stays diagnosable after the rig is gone.
     */
    private void keepLogs() throws IOException {
        Path keep = Path.of("target", "vm-logs", rig.prefix()).toAbsolutePath();
        Files.createDirectories(keep);
        for (VmHost h : hosts) {
            List<Path> logs = new ArrayList<>(List.of(h.hookLog()));
            if (h.daemon() != null) {
                logs.add(h.daemon().log());
            }
            if (h.libvirt() != null) {
                logs.add(h.libvirt().consoleLog(domain));
                logs.add(h.libvirt().daemonLog());
            }
            for (Path log : logs) {
                if (Files.isRegularFile(log)) {
                    Files.copy(log, keep.resolve(h.name() + "-" + log.getFileName()),
                            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
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
