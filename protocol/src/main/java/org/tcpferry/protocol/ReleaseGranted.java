package org.tcpferry.protocol;

import org.tcpferry.repair.ConnectionState;

/**
 * Host to agent: the host's copy is stopped; conform the guest socket to {@code finalState}.
 *
 * @param finalState the copy's last state, with everything it spooled as the received queue; null
 *     only when {@code peerReset} and nothing is left to carry
 * @param peerReset the peer reset the connection while the host held it
 */
public record ReleaseGranted(ConnectionState finalState, boolean peerReset) implements Message {
    public ReleaseGranted {
        if (finalState == null && !peerReset) {
            throw new IllegalArgumentException("finalState may be absent only when the peer reset the connection");
        }
    }

    @Override
    public MessageType type() {
        return MessageType.RELEASE_GRANTED;
    }
}
