package org.tcpferry.protocol;

import java.util.Objects;
import org.tcpferry.repair.ConnectionState;

/** Agent to host, one per connection: take over this connection of {@code domain}. */
public record HandoffRequest(String domain, ConnectionState state) implements Message {
    public HandoffRequest {
        Objects.requireNonNull(domain, "domain");
        Objects.requireNonNull(state, "state");
    }

    @Override
    public MessageType type() {
        return MessageType.HANDOFF_REQUEST;
    }
}
