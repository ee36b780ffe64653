package org.tcpferry.host.cli;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.Callable;
import org.tcpferry.host.libvirt.DomainXml;
import org.tcpferry.host.libvirt.LibvirtSession;
import org.tcpferry.host.libvirt.LineDiff;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code tcpferry setup-domain DOMAIN}: adds the agent's virtio-serial channel (and, with
 * {@code --address}, the guest's addresses as metadata) to the persistent definition. Idempotent.
 */
@Command(name = "setup-domain", mixinStandardHelpOptions = true,
        description = {"Add the " + DomainXml.AGENT_CHANNEL + " virtio-serial channel the guest agent talks through to "
                + "DOMAIN's definition, and with --address record the guest's addresses in its <metadata> for the host "
                + "manager's discovery. Running it again changes nothing. Prints the diff of the definition.",
            "A running domain gets the channel at its next start (the definition changes, not the running guest)."},
        footerHeading = "%nExamples:%n",
        footer = {"  tcpferry setup-domain web1",
            "  tcpferry setup-domain --address 192.0.2.10 --address 2001:db8::10 web1",
            "  tcpferry setup-domain --dry-run web1            show the diff, change nothing"})
final class SetupDomainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    LibvirtOption libvirt;

    @Parameters(index = "0", paramLabel = "DOMAIN", description = "the domain's name")
    String domain;

    @Option(names = "--address", paramLabel = "IP[/PREFIX]",
            description = "an address of the guest (repeat for each); replaces the recorded list")
    List<String> addresses;

    // Not libvirt's own channel directory (/var/lib/libvirt/qemu/channel/target): libvirt 9.0 drops a
    // virtio channel's path under it as "generated" and makes a per-domain-id one (seen on the real-VM
    // rig: the defined path vanished from the XML), so hostd would connect to a path nobody listens on.
    @Option(names = "--channel-dir", paramLabel = "DIR", defaultValue = "/var/lib/libvirt/qemu",
            description = "directory of the channel's host-side socket, DIR/DOMAIN." + DomainXml.AGENT_CHANNEL
                    + " (default: ${DEFAULT-VALUE}, the qemu driver's own directory, present on every host; not "
                    + "libvirt's channel/target, whose paths libvirt replaces with generated ones)")
    String channelDir;

    @Option(names = "--dry-run", description = "print the diff without defining anything")
    boolean dryRun;

    @Option(names = "--json", description = "print {domain, changed, diff} as JSON")
    boolean json;

    @Override
    public Integer call() {
        try (LibvirtSession session = LibvirtSession.open(libvirt.uri)) {
            String before = session.inactiveXml(domain);
            String edited = DomainXml.parse(before).withAgentChannel(DomainXml.agentSocketPath(channelDir, domain));
            if (addresses != null) {
                edited = DomainXml.parse(edited).withAddresses(addresses);
            }
            boolean changed = !edited.equals(before);
            String after = edited;
            if (changed && !dryRun) {
                session.define(edited);
                after = session.inactiveXml(domain); // show libvirt's definition, as it stored it
            }
            String diff = LineDiff.of(before, after);
            if (json) {
                var out = Workflow.JSON.createObjectNode();
                out.put("domain", domain);
                out.put("changed", changed);
                out.put("defined", changed && !dryRun);
                out.put("diff", diff);
                spec.commandLine().getOut().println(out);
            } else if (!changed) {
                spec.commandLine().getOut().println(domain + " is already set up for tcpferry; nothing to change");
            } else {
                spec.commandLine().getOut().print(diff);
                spec.commandLine().getOut().println(dryRun ? "(dry run: nothing defined)" : "defined " + domain);
            }
            spec.commandLine().getOut().flush();
            return TcpferryCommand.OK;
        } catch (IOException | IllegalArgumentException | IllegalStateException e) {
            spec.commandLine().getErr().println("tcpferry setup-domain: " + e.getMessage());
            return TcpferryCommand.LIBVIRT_FAILED;
        }
    }
}
