package org.tcpferry.vmrig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import org.tcpferry.rig.Namespace;

/**
 * A tcpferry host manager ({@code bin/tcpferry hostd}) for one domain, run as a process inside a host
 * namespace (the domain's bridge namespace), with its control socket, secret, spool and log in its
 * own directory. The rig stops it with SIGTERM when it closes, which removes its nft tables and rules.
 *
 * <p>libvirt names the agent channel's socket after the domain id, which changes at every restore, so
 * the daemon is configured with a stable symbolic link that {@link #pointChannelAt(Path)} retargets;
 * the daemon reconnects by itself every second.
 */
public final class HostDaemon {
    private final Path repoRoot;
    private final Path dir;
    private final String domain;

    private HostDaemon(Path repoRoot, Path dir, String domain) {
        this.repoRoot = repoRoot;
        this.dir = dir;
        this.domain = domain;
    }

    /** Writes the configuration and starts {@code hostd} in {@code namespace}; waits for its control socket. */
    public static HostDaemon start(Path repoRoot, Namespace namespace, Path dir, String node, String domain,
            String uuid, String guestAddress, String bridge) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        HostDaemon daemon = new HostDaemon(repoRoot, dir, domain);
        String config = "{\n"
                + "  \"node\": \"" + node + "\",\n"
                + "  \"controlSocket\": \"" + daemon.controlSocket() + "\",\n"
                + "  \"secretFile\": \"" + dir.resolve("host.secret") + "\",\n"
                + "  \"quotas\": { \"spoolDir\": \"" + dir.resolve("spool") + "\" },\n"
                + "  \"domains\": [ {\n"
                + "    \"name\": \"" + domain + "\", \"uuid\": \"" + uuid + "\",\n"
                + "    \"addresses\": [\"" + guestAddress + "\"], \"netns\": \"" + namespace.name() + "\",\n"
                + "    \"bridge\": \"" + bridge + "\", \"channel\": \"" + daemon.channelLink() + "\",\n"
                + "    \"channelMode\": \"connect\"\n"
                + "  } ]\n"
                + "}\n";
        Path configFile = dir.resolve("host.json");
        Files.writeString(configFile, config);
        namespace.spawn("sh", "-c", "exec '" + repoRoot.resolve("bin/tcpferry") + "' hostd --config '" + configFile
                + "' > '" + daemon.log() + "' 2>&1");
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!Files.exists(daemon.controlSocket())) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("hostd did not open its control socket within 60 s; log:\n"
                        + Files.readString(daemon.log()));
            }
            Thread.sleep(100);
        }
        return daemon;
    }

    /** The unix socket of the daemon's control endpoint (for the CLI and the libvirt hook). */
    public Path controlSocket() {
        return dir.resolve("control.sock");
    }

    /** The daemon's stderr log (one key=value line per event). */
    public Path log() {
        return dir.resolve("hostd.log");
    }

    /** The stable link the daemon connects to as the domain's channel. */
    public Path channelLink() {
        return dir.resolve("agent-channel");
    }

    /** Points the channel link at the current QEMU's channel socket (after start, restore or migration). */
    public void pointChannelAt(Path channelSocket) throws IOException {
        Path temporary = dir.resolve("agent-channel.new");
        Files.deleteIfExists(temporary);
        Files.createSymbolicLink(temporary, channelSocket);
        Files.move(temporary, channelLink(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** {@code bin/tcpferry VERB DOMAIN --socket CONTROL} once, whatever its exit code. */
    public Shell.Result control(String verb) {
        return Shell.run(60, Map.of(), repoRoot.resolve("bin/tcpferry").toString(), verb, domain,
                "--socket", controlSocket().toString());
    }

    /**
     * {@link #control} until it succeeds: the agent opens its channel 10-20 s after the guest is
     * ready under TCG, and a just-restored guest's channel is reconnected within about a second.
     * Returns the successful result; its {@code millis} is the last (successful) call's wall time.
     */
    public Shell.Result controlWhenAgentConnected(String verb, long timeoutSeconds) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
        while (true) {
            Shell.Result result = control(verb);
            if (result.succeeded()) {
                return result;
            }
            if (System.nanoTime() > deadline || !(result.stderr() + result.stdout()).contains("not connected")) {
                throw new IllegalStateException("tcpferry " + verb + " failed: " + result.describe());
            }
            Thread.sleep(500);
        }
    }
}
