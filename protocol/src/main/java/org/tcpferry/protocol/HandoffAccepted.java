package org.tcpferry.protocol;

import java.util.Arrays;
import java.util.Objects;

/** Host to agent: the host holds {@code flow}; {@code token} proves ownership when releasing it. */
public record HandoffAccepted(FlowKey flow, byte[] token) implements Message {
    public HandoffAccepted {
        Objects.requireNonNull(flow, "flow");
        Objects.requireNonNull(token, "token");
    }

    @Override
    public MessageType type() {
        return MessageType.HANDOFF_ACCEPTED;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HandoffAccepted m && flow.equals(m.flow) && Arrays.equals(token, m.token);
    }

    @Override
    public int hashCode() {
        return Objects.hash(flow, Arrays.hashCode(token));
    }

    @Override
    public String toString() {
        return "HandoffAccepted[" + flow + " " + Tokens.describe(token) + "]";
    }
}
