package org.tcpferry.host.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.libvirt.Domain.MigrateFlags;
import org.tcpferry.host.libvirt.LibvirtFailure;
import org.tcpferry.host.libvirt.LibvirtSession;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tcpferry migrate DOMAIN DEST-URI}: hand off on this (the source) host, migrate through
 * libvirt, then have the guest reclaim its connections on the destination.
 */
@Command(name = "migrate", mixinStandardHelpOptions = true,
        description = {"Hand DOMAIN's connections to this host, migrate the domain to DEST-URI, then have the guest "
                + "take them back on the destination.",
            "--hold-on chooses who holds the connections while the guest moves: source (default) is this host; "
                + "target is the destination's host manager (found in this host's peers list by node name or address "
                + "host of DEST-URI); any other value names a peers entry, an intermediary host manager. A holder "
                + "other than this host announces the guest's MAC addresses on its bridge, so the peer's packets go "
                + "there, and the guest is paused here for the move (its own frames would draw them back); it runs "
                + "again on the destination unless --suspend. The destination reclaims through its own host manager, "
                + "which relays to the holder when that is a third host.",
            "The reclaim on the destination is ordered through --reclaim-socket (the destination host manager's control "
                + "socket, when this machine can reach it); without it, the destination's host manager reclaims by itself "
                + "when libvirt reports the guest running (libvirt.uri set in its config)."},
        footerHeading = "%nExamples:%n",
        footer = {"  tcpferry migrate web1 qemu+ssh://hostb/system",
            "  tcpferry migrate --suspend --hold-on target web1 qemu+ssh://hostb/system  (hostb holds them)",
            "  tcpferry migrate --suspend web1 qemu+ssh://hostb/system  (arrives paused)",
            "  tcpferry migrate --offline web1 qemu+ssh://hostb/system  (definition only)"})
final class MigrateCommand extends Workflow {
    @Parameters(index = "0", paramLabel = "DOMAIN", description = "the domain's name")
    String domain;

    @Parameters(index = "1", paramLabel = "DEST-URI", description = "the destination libvirt URI, as virsh migrate takes it")
    String destination;

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Mode mode = new Mode();

    /** How libvirt migrates: one of three. */
    static final class Mode {
        @Option(names = "--live", description = "migrate while the guest runs (default)")
        boolean live;

        @Option(names = "--offline", description = "copy the definition only; the guest keeps running here, no handoff")
        boolean offline;

        @Option(names = "--suspend", description = "leave the guest paused on the destination (reclaimed when resumed)")
        boolean suspend;
    }

    @Option(names = "--hold-on", paramLabel = "WHERE", defaultValue = "source",
            description = "who holds the connections during the move: source (default), target, or the node name of "
                    + "another host manager in this host's peers list")
    String holdOn;

    @Option(names = "--reclaim-socket", paramLabel = "PATH",
            description = "control socket of the destination's host manager, to order the reclaim there")
    Path reclaimSocket;

    @Option(names = "--reclaim-timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "how long to wait for the agent on the destination (default: ${DEFAULT-VALUE})")
    int reclaimTimeout;

    @Override
    String name() {
        return "migrate";
    }

    /** libvirt's flags for the chosen mode. */
    long flags() {
        if (mode.offline) {
            return MigrateFlags.OFFLINE | MigrateFlags.PERSIST_DEST;
        }
        if (mode.suspend) {
            return MigrateFlags.LIVE | MigrateFlags.PAUSED;
        }
        return MigrateFlags.LIVE;
    }

    @Override
    int run(Path control) throws IOException {
        result.put("domain", domain);
        result.put("destination", destination);
        result.put("holdOn", holdOn);
        Map<String, String> handoffArgs = new java.util.LinkedHashMap<>();
        handoffArgs.put("domain", domain);
        if (!holdOn.equals("source")) {
            String node = holdOn.equals("target") ? destinationHost() : holdOn;
            if (node == null) {
                return fail(TcpferryCommand.USAGE, "--hold-on target needs a host in DEST-URI " + destination,
                        "nothing was changed: the guest keeps them");
            }
            handoffArgs.put("holdOn", node);
        }
        try (LibvirtSession libvirtSession = openLibvirt()) {
            if (mode.offline) {
                progress.phase("migrate", "copying the definition of " + domain + " to " + destination);
                libvirtSession.migrate(domain, destination, flags());
                return succeed("copied the definition of " + domain + " to " + destination + "; nothing was handed off");
            }
            DaemonOrder.Result handoff = order(control, "handoff", handoffArgs);
            if (handoff.exitCode() != 0) {
                return fail(handoff.exitCode(), "handoff: " + handoff.error(),
                        "the guest keeps its connections; nothing was migrated");
            }
            boolean heldElsewhere = handoffArgs.containsKey("holdOn");
            if (heldElsewhere) {
                // Another host announced the guest's MAC to draw the peers' packets to its copies; the
                // guest's own frames from here would draw them back, so it sends none until it has moved.
                progress.phase("suspend", "pausing " + domain + " here while " + handoffArgs.get("holdOn")
                        + " holds its connections");
                try {
                    libvirtSession.suspend(domain);
                } catch (LibvirtFailure e) {
                    DaemonOrder.Result reclaim = order(control, "reclaim", domain);
                    return fail(TcpferryCommand.LIBVIRT_FAILED, e.getMessage() + "; nothing was migrated",
                            reclaim.exitCode() == 0 ? "given back to the guest, which still runs here"
                                    : "host " + handoffArgs.get("holdOn") + " still holds them (reclaim failed: "
                                            + reclaim.error() + "); run `tcpferry reclaim " + domain + "`");
                }
            }
            progress.phase("migrate", "migrating " + domain + " to " + destination + " (" + holding + ")");
            try (JobPoller poller = JobPoller.start(libvirtSession, domain, "migrate", progress)) {
                libvirtSession.migrate(domain, destination, flags());
            } catch (LibvirtFailure e) {
                // A failed migration leaves the guest here: running again, it gets its connections back.
                if (heldElsewhere) {
                    libvirtSession.resume(domain);
                }
                progress.phase("reclaim", "migration failed, giving the connections back to " + domain + " here");
                DaemonOrder.Result reclaim = order(control, "reclaim", domain);
                return fail(TcpferryCommand.LIBVIRT_FAILED, e.getMessage(), reclaim.exitCode() == 0
                        ? "given back to the guest, which still runs here"
                        : "this host still holds them (reclaim failed: " + reclaim.error() + "); run `tcpferry reclaim "
                                + domain + "`");
            }
        }
        String moved = "migrated " + domain + " to " + destination;
        if (handoffArgs.containsKey("holdOn") && !mode.suspend) {
            // It was paused here for the move; it runs again there, where its agent reclaims.
            try (LibvirtSession there = LibvirtSession.open(destination)) {
                there.resume(domain);
            } catch (LibvirtFailure e) {
                return fail(TcpferryCommand.LIBVIRT_FAILED, moved + ", but resuming it there failed: " + e.getMessage(),
                        holding + "; run `virsh -c " + destination + " resume " + domain + "`");
            }
        }
        if (mode.suspend) {
            return succeed(moved + " (paused there); " + holding + " until it is resumed there");
        }
        if (reclaimSocket == null) {
            return succeed(moved + "; " + holding + " until the destination's host manager reclaims them");
        }
        return Reclaimer.reclaim(this, reclaimSocket, domain, reclaimTimeout, moved);
    }

    /** The host part of DEST-URI ({@code qemu+ssh://hostb/system} gives {@code hostb}), or null. */
    String destinationHost() {
        try {
            return java.net.URI.create(destination).getHost();
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
