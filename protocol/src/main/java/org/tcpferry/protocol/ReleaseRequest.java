package org.tcpferry.protocol;

import java.util.Arrays;
import java.util.Objects;

/** Agent to host: hand {@code flow} back; the host stops its copy and answers ReleaseGranted. */
public record ReleaseRequest(FlowKey flow, byte[] token) implements Message {
    public ReleaseRequest {
        Objects.requireNonNull(flow, "flow");
        Objects.requireNonNull(token, "token");
    }

    @Override
    public MessageType type() {
        return MessageType.RELEASE_REQUEST;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ReleaseRequest m && flow.equals(m.flow) && Arrays.equals(token, m.token);
    }

    @Override
    public int hashCode() {
        return Objects.hash(flow, Arrays.hashCode(token));
    }

    @Override
    public String toString() {
        return "ReleaseRequest[" + flow + " " + Tokens.describe(token) + "]";
    }
}
