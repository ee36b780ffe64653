package org.tcpferry.protocol;

import java.net.InetSocketAddress;
import java.util.Objects;
import org.tcpferry.repair.ConnectionState;
import org.tcpferry.sys.SockAddr;

/** Names one TCP connection by its two ends, as seen from the guest. */
public record FlowKey(InetSocketAddress local, InetSocketAddress remote) {
    public FlowKey {
        Objects.requireNonNull(local, "local");
        Objects.requireNonNull(remote, "remote");
        if (local.isUnresolved() || remote.isUnresolved()) {
            throw new IllegalArgumentException("flow addresses must be resolved: " + local + " " + remote);
        }
    }

    public static FlowKey of(ConnectionState state) {
        return new FlowKey(state.local(), state.remote());
    }

    /** {@code 10.0.0.2:5000->10.0.0.1:40000}, as {@link ConnectionState#flow()}. */
    @Override
    public String toString() {
        return SockAddr.format(local) + "->" + SockAddr.format(remote);
    }
}
