package org.tcpferry.host.cli;

import java.io.IOException;
import java.nio.file.Path;
import org.tcpferry.host.libvirt.DomainXml;
import org.tcpferry.host.libvirt.LibvirtSession;
import org.tcpferry.host.libvirt.SaveImage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tcpferry restore FILE}: {@code virsh restore}, then give the held connections back to the guest. */
@Command(name = "restore", mixinStandardHelpOptions = true,
        description = {"Restore a domain saved with tcpferry save, then order its agent to take back the connections "
                + "this host holds for it (waiting for the agent to reconnect, up to --reclaim-timeout).",
            "The domain's name is read from the save image."},
        footerHeading = "%nExample:%n",
        footer = {"  tcpferry restore /var/lib/libvirt/save/web1.sav"})
final class RestoreCommand extends Workflow {
    @Parameters(index = "0", paramLabel = "FILE", description = "the save image written by tcpferry save")
    Path file;

    @Option(names = "--reclaim-timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "how long to wait for the restored guest's agent to reconnect (default: ${DEFAULT-VALUE})")
    int reclaimTimeout;

    @Override
    String name() {
        return "restore";
    }

    @Override
    int run(Path control) throws IOException {
        String domain = DomainXml.parse(SaveImage.domainXml(file)).name();
        result.put("domain", domain);
        result.put("file", file.toAbsolutePath().toString());
        try (LibvirtSession libvirtSession = openLibvirt()) {
            progress.phase("restore", "restoring " + domain + " from " + file);
            try {
                libvirtSession.restore(file);
            } catch (IOException e) {
                return fail(TcpferryCommand.LIBVIRT_FAILED, e.getMessage(),
                        "this host still holds them (if any); they stay held until " + domain + " runs here again");
            }
        }
        return Reclaimer.reclaim(this, control, domain, reclaimTimeout, "restored " + domain + " from " + file);
    }
}
