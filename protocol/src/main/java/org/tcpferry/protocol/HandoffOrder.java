package org.tcpferry.protocol;

import java.util.Objects;

/** Host to agent: capture the selected connections and hand them off (answered by HandoffRequests, then HandoffComplete). */
public record HandoffOrder(Selection selection) implements Message {
    public HandoffOrder {
        Objects.requireNonNull(selection, "selection");
    }

    @Override
    public MessageType type() {
        return MessageType.HANDOFF_ORDER;
    }
}
