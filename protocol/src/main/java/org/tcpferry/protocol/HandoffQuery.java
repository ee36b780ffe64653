package org.tcpferry.protocol;

import java.util.Objects;

/**
 * Agent to host, on the domain's own channel: "do you hold {@code flow} for me?". An agent that
 * was killed after sending a HandoffRequest and before journaling the token does not know whether
 * the host took the connection. The host answers HandoffAccepted with the flow's token when it
 * holds the flow for this channel's domain (the agent then reclaims it as usual), or UNKNOWN_FLOW
 * (the agent restores the socket from its own dump).
 */
public record HandoffQuery(FlowKey flow) implements Message {
    public HandoffQuery {
        Objects.requireNonNull(flow, "flow");
    }

    @Override
    public MessageType type() {
        return MessageType.HANDOFF_QUERY;
    }
}
