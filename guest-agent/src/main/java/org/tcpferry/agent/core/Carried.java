package org.tcpferry.agent.core;

import java.net.InetSocketAddress;
import java.util.List;
import org.tcpferry.protocol.ConnectionStateCodec;
import org.tcpferry.protocol.FlowKey;
import org.tcpferry.repair.ConnectionState;
import org.tcpferry.sys.NativeSocket;

/**
 * One connection the agent is carrying: who owns it, the agent's duplicate of the owner's
 * descriptor, the dump, the host's token and the phase. Changed only on the agent's work thread;
 * {@code phase} is volatile so that status can be read from any thread.
 */
public final class Carried {
    final FlowKey flow;
    final int ownerPid;
    final int ownerFd;
    final long inode;
    final List<FreezeUnit> freezeUnits;
    volatile Phase phase = Phase.SELECTED;
    /** The socket's address family as sock_diag reported it; 0 when unknown (read from the journal). */
    int family;
    NativeSocket socket;
    ConnectionState dump;
    /** {@code dump} as ConnectionStateCodec encodes it, kept from the size check for the journal; null if not known. */
    private byte[] encodedDump;
    /** The dump {@code encodedDump} encodes: {@code dump} may be assigned directly. */
    private ConnectionState encodedFrom;
    ConnectionState finalState;
    byte[] token;
    /** The host manager (its node name) that accepted it and holds the copy. */
    String holder;
    String error;
    long handedOffAtNanos;
    /**
     * Found DUMPED in the journal at a restart: its HandoffRequest may have been accepted, so the
     * next host to connect is asked (HandoffQuery) before the socket is restored from the dump.
     */
    boolean askHost;

    Carried(FlowKey flow, int ownerPid, int ownerFd, long inode, List<FreezeUnit> freezeUnits) {
        this.flow = flow;
        this.ownerPid = ownerPid;
        this.ownerFd = ownerFd;
        this.inode = inode;
        this.freezeUnits = List.copyOf(freezeUnits);
    }

    public FlowKey flow() {
        return flow;
    }

    public Phase phase() {
        return phase;
    }

    public int ownerPid() {
        return ownerPid;
    }

    public int ownerFd() {
        return ownerFd;
    }

    /** The agent's dump of the original socket, null before DUMPED. */
    public ConnectionState dump() {
        return dump;
    }

    /** The node name of the host that holds the copy, null before HANDED_OFF. */
    public String holder() {
        return holder;
    }

    /** Sets the dump with its encoding (already made to check its size), so the journal does not encode it again. */
    void dump(ConnectionState state, byte[] encoded) {
        this.dump = state;
        this.encodedDump = encoded;
        this.encodedFrom = state;
    }

    /** The dump, encoded with ConnectionStateCodec; null before DUMPED. */
    byte[] encodedDump() {
        if (dump == null) {
            return null;
        }
        if (encodedFrom != dump) {
            encodedDump = ConnectionStateCodec.encode(dump);
            encodedFrom = dump;
        }
        return encodedDump;
    }

    public String error() {
        return error;
    }

    InetSocketAddress local() {
        return flow.local();
    }

    InetSocketAddress remote() {
        return flow.remote();
    }

    @Override
    public String toString() {
        return flow + " " + phase + " owner " + ownerPid + "/fd " + ownerFd;
    }
}
