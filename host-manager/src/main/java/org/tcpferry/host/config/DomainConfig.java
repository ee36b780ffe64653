package org.tcpferry.host.config;

import java.util.List;

/**
 * One guest.
 *
 * @param name libvirt domain name, the key in messages and status
 * @param uuid libvirt domain UUID, bound into every token
 * @param addresses IPs or CIDRs the guest owns; a handoff for any other local address is refused
 * @param netns path ({@code /run/netns/x}, {@code /proc/PID/ns/net}) or name ({@code x}) of the
 *     network namespace holding the guest's bridge; empty means the daemon's own
 * @param bridge the bridge the guest's port is on
 * @param channel the guest agent's channel: a unix socket path, or {@code tcp:host:port} (tests)
 * @param channelMode {@code connect} (default: libvirt's virtio-serial chardev is a server) or
 *     {@code listen}
 * @param macs the guest's MAC addresses on {@code bridge}; when this host holds copies for a guest
 *     that is not on its bridge ({@code --hold-on}), it announces them so the peer's frames come here
 */
public record DomainConfig(String name, String uuid, List<String> addresses, String netns, String bridge,
        String channel, String channelMode, List<String> macs) {

    /** Without MAC addresses (the form before placing copies on another host existed). */
    public DomainConfig(String name, String uuid, List<String> addresses, String netns, String bridge, String channel,
            String channelMode) {
        this(name, uuid, addresses, netns, bridge, channel, channelMode, null);
    }

    public DomainConfig {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("every domain needs a name");
        }
        if (uuid == null || uuid.isBlank()) {
            throw new IllegalArgumentException("domain " + name + " needs a uuid");
        }
        if (bridge == null || bridge.isBlank()) {
            throw new IllegalArgumentException("domain " + name + " needs a bridge");
        }
        addresses = addresses == null ? List.of() : List.copyOf(addresses);
        netns = netns == null ? "" : netns;
        channel = channel == null ? "" : channel;
        channelMode = channelMode == null ? "connect" : channelMode;
        macs = macs == null ? List.of() : List.copyOf(macs);
        for (String mac : macs) {
            if (!mac.matches("[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}")) {
                throw new IllegalArgumentException("domain " + name + ": not a MAC address: " + mac);
            }
        }
        if (!channelMode.equals("connect") && !channelMode.equals("listen")) {
            throw new IllegalArgumentException("domain " + name + ": channelMode must be connect or listen");
        }
        AddressSet.parse(addresses); // fail at load time, not at the first handoff
    }

    /** The guest's addresses as a set to test membership in. */
    public AddressSet addressSet() {
        return AddressSet.parse(addresses);
    }

    /** The namespace file, or null for the daemon's own namespace. */
    public java.nio.file.Path netnsPath() {
        if (netns.isEmpty()) {
            return null;
        }
        return netns.contains("/") ? java.nio.file.Path.of(netns) : java.nio.file.Path.of("/run/netns", netns);
    }
}
