package org.tcpferry.host.libvirt;

import java.util.List;

/**
 * What libvirt tells about one domain: enough to hold its connections without a config entry.
 *
 * @param name the domain's name
 * @param uuid the domain's UUID
 * @param active whether it runs (then {@code channelSocket} comes from the live XML)
 * @param interfaces its network interfaces, in XML order
 * @param channelSocket host-side unix socket of the {@value DomainXml#AGENT_CHANNEL} channel, empty
 *     when the domain has no such channel or libvirt has not assigned its path yet (inactive domain)
 * @param addresses the guest's addresses from {@code <tcpferry:addresses>} in its metadata
 */
public record DiscoveredDomain(String name, String uuid, boolean active, List<DomainInterface> interfaces,
        String channelSocket, List<String> addresses) {

    public DiscoveredDomain {
        interfaces = List.copyOf(interfaces);
        addresses = List.copyOf(addresses);
    }

    /** Reads a domain's XML (live XML for a running domain). */
    public static DiscoveredDomain of(String xml, boolean active) {
        DomainXml parsed = DomainXml.parse(xml);
        return new DiscoveredDomain(parsed.name(), parsed.uuid(), active, parsed.interfaces(), parsed.agentChannelSocket(),
                parsed.addresses());
    }

    /** The bridge of the first interface that has one, or empty. */
    /** The MAC addresses of its interfaces that have one. */
    public List<String> macs() {
        return interfaces.stream().map(DomainInterface::mac).filter(m -> !m.isEmpty()).toList();
    }

    public String firstBridge() {
        return interfaces.stream().map(DomainInterface::bridge).filter(b -> !b.isEmpty()).findFirst().orElse("");
    }
}
