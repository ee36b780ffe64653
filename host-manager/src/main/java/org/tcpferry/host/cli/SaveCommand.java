package org.tcpferry.host.cli;

import java.io.IOException;
import java.nio.file.Path;
import org.tcpferry.host.libvirt.LibvirtFailure;
import org.tcpferry.host.libvirt.LibvirtSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code tcpferry save DOMAIN FILE}: hand the connections to this host, then {@code virsh save}. */
@Command(name = "save", mixinStandardHelpOptions = true,
        description = {"Hand DOMAIN's connections to this host's manager, then save the domain to FILE through libvirt.",
            "The host keeps the connections alive until the domain is restored here (tcpferry restore FILE).",
            "If the save fails, the connections are given back to the guest, which keeps running."},
        footerHeading = "%nExample:%n",
        footer = {"  tcpferry save web1 /var/lib/libvirt/save/web1.sav",
            "  tcpferry save --json --connect qemu:///system web1 /srv/web1.sav"})
final class SaveCommand extends Workflow {
    @Parameters(index = "0", paramLabel = "DOMAIN", description = "the domain's name")
    String domain;

    @Parameters(index = "1", paramLabel = "FILE", description = "the save image to write")
    Path file;

    @Override
    String name() {
        return "save";
    }

    @Override
    int run(Path control) throws IOException {
        result.put("domain", domain);
        result.put("file", file.toAbsolutePath().toString());
        try (LibvirtSession libvirtSession = openLibvirt()) {
            if (!libvirtSession.isActive(domain)) {
                return fail(TcpferryCommand.LIBVIRT_FAILED, domain + " is not running on " + libvirt.uri,
                        "nothing was handed off");
            }
            DaemonOrder.Result handoff = order(control, "handoff", domain);
            if (handoff.exitCode() != 0) {
                return fail(handoff.exitCode(), "handoff: " + handoff.error(),
                        "the guest keeps its connections (the agent puts back a failed batch); nothing was saved");
            }
            progress.phase("save", "saving " + domain + " to " + file + " (" + handoff.held() + " connections held here)");
            try (JobPoller poller = JobPoller.start(libvirtSession, domain, "save", progress)) {
                libvirtSession.save(domain, file);
            } catch (LibvirtFailure e) {
                return giveBack(control, e);
            }
            return succeed("saved " + domain + " to " + file + "; this host holds " + handoff.held()
                    + " of its connections until `tcpferry restore " + file + "`");
        }
    }

    /** The save failed and the guest still runs: return its connections to it. */
    private int giveBack(Path control, LibvirtFailure failure) throws IOException {
        progress.phase("reclaim", "save failed, giving the connections back to " + domain);
        DaemonOrder.Result reclaim = order(control, "reclaim", domain);
        String holding = reclaim.exitCode() == 0
                ? "given back to the guest, which keeps running"
                : "this host still holds " + reclaim.held() + " of them (reclaim failed: " + reclaim.error()
                        + "); run `tcpferry reclaim " + domain + "`";
        return fail(TcpferryCommand.LIBVIRT_FAILED, failure.getMessage(), holding);
    }
}
