package org.tcpferry.vmrig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tcpferry.rig.Namespace;

/**
 * A tcpferry host manager ({@code bin/tcpferry hostd}) for one domain, run as a process inside a host
 * namespace (the domain's bridge namespace), with its control socket, secret, spool and log in its
 * own directory, and its peer endpoint (plaintext, {@code peer.insecure}: tests only) on the host's
 * segment address. {@link #stop()} sends SIGTERM, which removes its nft tables and rules when it
 * holds nothing (while holding it leaves them, and the copies, to its fd keeper for the next start);
 * the rig stops it, and any keeper left, when it closes ({@link #stopForGood}).
 *
 * <p>Two ways to know the domain. With libvirt ({@link Settings#libvirtUri}), as on a real host: no
 * domain in the config at all; the daemon runs in libvirtd's mount namespace (so the channel path in
 * the live XML is a path it can open) and learns the domain from libvirt, at its start or when
 * libvirt reports it (defined, migrated in). Without libvirt, the domain is configured: its channel
 * socket has a fixed path (the domain XML names it, as {@code tcpferry setup-domain} does), which on
 * this machine is longer than a unix socket address may be (108 bytes), so the config names a short
 * symbolic link to it.
 */
public final class HostDaemon {
    /** Port of every host manager's peer endpoint (each on its own host address). */
    public static final int PEER_PORT = 7400;

    /** Another host manager this one relays releases and handoffs to: its node name and peer endpoint. */
    public record Peer(String node, String address) {
    }

    /**
     * What a daemon is started with.
     *
     * @param guestMac the guest's MAC on {@code bridge} (announced when this host holds copies for a guest
     *     that runs elsewhere: {@code --hold-on})
     * @param peerAddress this host's address for its peer endpoint
     * @param peers the other hosts' peer endpoints (the relay)
     * @param libvirtUri libvirt for discovery and lifecycle events (automatic reclaim); null: none
     * @param handoffOnMigration libvirt.handoffOnMigration (only with a libvirt URI)
     */
    public record Settings(String node, String domain, String uuid, String guestAddress, String guestMac, String bridge,
            Path channelSocket, String peerAddress, List<Peer> peers, String libvirtUri, boolean handoffOnMigration) {
        public Settings withLibvirtUri(String uri) {
            return new Settings(node, domain, uuid, guestAddress, guestMac, bridge, channelSocket, peerAddress, peers, uri,
                    handoffOnMigration);
        }

        public Settings withHandoffOnMigration(boolean on) {
            return new Settings(node, domain, uuid, guestAddress, guestMac, bridge, channelSocket, peerAddress, peers,
                    libvirtUri, on);
        }
    }

    private final Path repoRoot;
    private final Namespace namespace;
    private final LibvirtHost libvirt;
    private final Path dir;
    private Settings settings;
    private Process process;
    private int starts;

    private HostDaemon(Path repoRoot, Namespace namespace, LibvirtHost libvirt, Path dir, Settings settings) {
        this.repoRoot = repoRoot;
        this.namespace = namespace;
        this.libvirt = libvirt;
        this.dir = dir;
        this.settings = settings;
    }

    /**
     * Writes the configuration and starts {@code hostd} in {@code namespace} (and in {@code libvirt}'s
     * mount namespace when the settings name a libvirt URI); waits for its control socket.
     */
    public static HostDaemon start(Path repoRoot, Namespace namespace, LibvirtHost libvirt, Path dir, Settings settings)
            throws IOException, InterruptedException {
        Files.createDirectories(dir);
        HostDaemon daemon = new HostDaemon(repoRoot, namespace, libvirt, dir, settings);
        Files.createSymbolicLink(daemon.channelLink(), settings.channelSocket());
        daemon.launch();
        return daemon;
    }

    private void launch() throws IOException, InterruptedException {
        Path configFile = dir.resolve("host.json");
        Files.writeString(configFile, config());
        Files.deleteIfExists(controlSocket());
        starts++;
        // Each start appends to the one log, so a restart keeps the earlier run's lines for diagnosis.
        List<String> command = new ArrayList<>();
        if (settings.libvirtUri() != null) {
            command.addAll(libvirt.inMountNamespace());
        }
        command.addAll(List.of("sh", "-c", "exec '" + repoRoot.resolve("bin/tcpferry") + "' hostd --config '"
                + configFile + "' >> '" + log() + "' 2>&1"));
        process = namespace.spawn(command.toArray(String[]::new));
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!Files.exists(controlSocket())) {
            if (System.nanoTime() > deadline || !process.isAlive()) {
                throw new IllegalStateException("hostd (" + settings.node() + ") did not open its control socket within "
                        + "60 s; log:\n" + Files.readString(log()));
            }
            Thread.sleep(100);
        }
    }

    private String config() {
        List<String> sections = new ArrayList<>();
        sections.add("\"node\": \"" + settings.node() + "\"");
        sections.add("\"controlSocket\": \"" + controlSocket() + "\"");
        sections.add("\"secretFile\": \"" + dir.resolve("host.secret") + "\"");
        // One keeper per host manager: both rig hosts share this machine's /run.
        sections.add("\"fdKeeperSocket\": \"" + dir.resolve("fd-keeper.sock") + "\"");
        sections.add("\"quotas\": { \"spoolDir\": \"" + dir.resolve("spool") + "\" }");
        sections.add("\"peer\": { \"listen\": \"" + settings.peerAddress() + ":" + PEER_PORT + "\", \"insecure\": true }");
        if (!settings.peers().isEmpty()) {
            sections.add("\"peers\": [" + String.join(", ", settings.peers().stream()
                    .map(p -> "{ \"node\": \"" + p.node() + "\", \"address\": \"" + p.address() + "\" }").toList()) + "]");
        }
        if (settings.libvirtUri() != null) {
            // Everything about the domain comes from libvirt: its name, uuid, MAC and bridge from its
            // XML, its addresses from the <metadata> setup-domain wrote, its channel from the live XML.
            sections.add("\"libvirt\": { \"uri\": \"" + settings.libvirtUri() + "\", \"handoffOnMigration\": "
                    + settings.handoffOnMigration() + " }");
            return "{\n  " + String.join(",\n  ", sections) + "\n}\n";
        }
        sections.add("\"domains\": [ {\n"
                + "    \"name\": \"" + settings.domain() + "\", \"uuid\": \"" + settings.uuid() + "\",\n"
                + "    \"addresses\": [\"" + settings.guestAddress() + "\"], \"macs\": [\"" + settings.guestMac() + "\"],\n"
                + "    \"netns\": \"" + namespace.name() + "\",\n"
                + "    \"bridge\": \"" + settings.bridge() + "\", \"channel\": \"" + channelLink() + "\",\n"
                + "    \"channelMode\": \"connect\"\n"
                + "  } ]");
        return "{\n  " + String.join(",\n  ", sections) + "\n}\n";
    }

    /** SIGTERM and wait (with nothing held the daemon removes its nft tables on the way out). */
    public void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    /**
     * For the rig's teardown: {@link #stop()}, then ends an fd keeper that still runs. A daemon
     * stopped while holding (a test that failed half-way) leaves its copies with the keeper for a
     * next start that will not come; the keeper must not outlive the rig's namespaces.
     */
    public void stopForGood() throws InterruptedException {
        stop();
        Path pidFile = dir.resolve("fd-keeper.sock.pid");
        try {
            if (Files.exists(pidFile)) {
                String pid = Files.readString(pidFile).strip();
                if (!pid.isEmpty()) {
                    ProcessHandle.of(Long.parseLong(pid)).ifPresent(keeper -> {
                        keeper.destroyForcibly();
                        keeper.onExit().join();
                    });
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot read " + pidFile, e);
        }
    }

    /** Stops the daemon and starts it again with {@code newSettings} (same directory, log appended). */
    public void restart(Settings newSettings) throws IOException, InterruptedException {
        stop();
        settings = newSettings;
        launch();
    }

    public Settings settings() {
        return settings;
    }

    /** How many times this daemon was started. */
    public int starts() {
        return starts;
    }

    /** The unix socket of the daemon's control endpoint (for the CLI and the libvirt hook). */
    public Path controlSocket() {
        return controlSocketIn(dir);
    }

    /** The control socket of a daemon that runs (or will run) in {@code dir}. */
    public static Path controlSocketIn(Path dir) {
        return dir.resolve("control.sock");
    }

    /** The daemon's stderr log (one key=value line per event). */
    public Path log() {
        return dir.resolve("hostd.log");
    }

    /** The short link the daemon connects to as the domain's channel. */
    public Path channelLink() {
        return dir.resolve("agent-channel");
    }

    /** {@code bin/tcpferry VERB DOMAIN --socket CONTROL} once, whatever its exit code. */
    public Shell.Result control(String verb) {
        return cli(60, verb, settings.domain());
    }

    /**
     * {@code bin/tcpferry ARGS... --socket CONTROL} once, whatever its exit code, inside the host's
     * network namespace (as an operator on that host: a migration's destination URI is an address on
     * the hosts' segment).
     */
    public Shell.Result cli(long timeoutSeconds, String... args) {
        List<String> command = new ArrayList<>();
        command.add("nsenter");
        command.add("--net=" + namespace.file());
        command.add(repoRoot.resolve("bin/tcpferry").toString());
        command.addAll(List.of(args));
        command.add("--socket");
        command.add(controlSocket().toString());
        return Shell.run(timeoutSeconds, Map.of(), command.toArray(String[]::new));
    }

    /** Whether the daemon's log holds {@code text} at least {@code occurrences} times. */
    public boolean logged(String text, int occurrences) throws IOException {
        return timesLogged(text) >= occurrences;
    }

    /** How many times the daemon's log (all its runs) holds {@code text}. */
    public int timesLogged(String text) throws IOException {
        if (!Files.exists(log())) {
            return 0;
        }
        String all = Files.readString(log(), java.nio.charset.StandardCharsets.ISO_8859_1);
        int count = 0;
        for (int i = all.indexOf(text); i >= 0; i = all.indexOf(text, i + 1)) {
            count++;
        }
        return count;
    }

    /** The daemon's log lines that contain {@code text}. */
    public List<String> linesWith(String text) throws IOException {
        if (!Files.exists(log())) {
            return List.of();
        }
        return Files.readAllLines(log(), java.nio.charset.StandardCharsets.ISO_8859_1).stream()
                .filter(line -> line.contains(text)).toList();
    }
}
