package org.tcpferry.protocol;

import java.util.Arrays;
import java.util.Objects;

/** Agent to host: the guest socket now carries {@code flow}; the host may forget its copy. */
public record ReleaseConfirm(FlowKey flow, byte[] token) implements Message {
    public ReleaseConfirm {
        Objects.requireNonNull(flow, "flow");
        Objects.requireNonNull(token, "token");
    }

    @Override
    public MessageType type() {
        return MessageType.RELEASE_CONFIRM;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ReleaseConfirm m && flow.equals(m.flow) && Arrays.equals(token, m.token);
    }

    @Override
    public int hashCode() {
        return Objects.hash(flow, Arrays.hashCode(token));
    }

    @Override
    public String toString() {
        return "ReleaseConfirm[" + flow + " " + Tokens.describe(token) + "]";
    }
}
