package org.tcpferry.protocol;

import java.util.Arrays;
import java.util.Objects;

/** Agent to host: the guest could not take {@code flow} back; the host resumes its copy. */
public record ReleaseAbort(FlowKey flow, byte[] token) implements Message {
    public ReleaseAbort {
        Objects.requireNonNull(flow, "flow");
        Objects.requireNonNull(token, "token");
    }

    @Override
    public MessageType type() {
        return MessageType.RELEASE_ABORT;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ReleaseAbort m && flow.equals(m.flow) && Arrays.equals(token, m.token);
    }

    @Override
    public int hashCode() {
        return Objects.hash(flow, Arrays.hashCode(token));
    }

    @Override
    public String toString() {
        return "ReleaseAbort[" + flow + " " + Tokens.describe(token) + "]";
    }
}
