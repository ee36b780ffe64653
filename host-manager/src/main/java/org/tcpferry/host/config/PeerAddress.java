package org.tcpferry.host.config;

/**
 * Another host manager this one may relay to: a release for a copy that host holds (the guest moved
 * here), or a handoff whose copies should live there ({@code --hold-on}). The connection uses this
 * host's {@code peer.cert}, {@code peer.key} and {@code peer.trust} as its client side, or plaintext
 * when {@code peer.insecure} is set.
 *
 * @param node the other host's {@code node} name, as its tokens carry it
 * @param address {@code host:port} of its peer endpoint
 */
public record PeerAddress(String node, String address) {
    public PeerAddress {
        if (node == null || node.isBlank()) {
            throw new IllegalArgumentException("every entry of peers needs a node name");
        }
        if (address == null || !address.contains(":")) {
            throw new IllegalArgumentException("peers entry " + node + " needs an address host:port, not " + address);
        }
    }
}
