package org.tcpferry.host.cli;

import picocli.CommandLine.Option;

/** {@code --connect URI}: which libvirt to talk to, as {@code virsh --connect}. */
final class LibvirtOption {
    static final String DEFAULT_URI = "qemu:///system";

    @Option(names = {"-C", "--connect"}, paramLabel = "URI", defaultValue = DEFAULT_URI,
            description = "libvirt connection URI, as virsh --connect (default: ${DEFAULT-VALUE})")
    String uri;
}
