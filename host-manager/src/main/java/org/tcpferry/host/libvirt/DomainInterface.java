package org.tcpferry.host.libvirt;

/**
 * One network interface of a domain, from its XML.
 *
 * @param mac the guest-side MAC address, lower case
 * @param bridge the host bridge the interface is plugged into ({@code <source bridge=...>}), empty
 *     when the interface is not on a bridge (e.g. a libvirt network without a bridge name in the XML)
 */
public record DomainInterface(String mac, String bridge) {
}
