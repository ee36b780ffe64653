package org.tcpferry.repair;

import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.Objects;
import org.tcpferry.sys.SockAddr;

/**
 * Everything needed to recreate one TCP connection, as {@link TcpRepair#dump} reads it from the
 * kernel. Sequence numbers are unsigned 32-bit values held in an int.
 *
 * <p>Send side: {@code writeSeq} is the sequence number after the last byte the application
 * queued (plus one for our FIN when {@code state.finSent()}). The queue holds {@code unacked}
 * bytes (sent, in flight, restored in repair mode) followed by {@code unsent} bytes (never on the
 * wire, written with a plain send after repair). Its first byte has sequence
 * {@link #sendQueueSeq()}, which is the peer's view of snd_una.
 *
 * <p>Receive side: {@code rcvNxt} is the next sequence number expected from the peer (plus one
 * for the peer's FIN when {@code state.finReceived()}); {@code received} holds the bytes that
 * arrived and that the application has not read, which end just before rcv_nxt.
 *
 * @param mssClamp the MSS clamp (TCP_MAXSEG read in repair mode)
 * @param sndWscale our shift for the peer's window, meaningful when {@code windowScaling}
 * @param rcvWscale the peer's shift for our window, meaningful when {@code windowScaling}
 * @param tsVal the TSval this socket would send now (TCP_TIMESTAMP), meaningful when {@code timestamps}
 */
public record ConnectionState(
        InetSocketAddress local,
        InetSocketAddress remote,
        TcpState state,
        int writeSeq,
        byte[] unacked,
        byte[] unsent,
        int rcvNxt,
        byte[] received,
        int mssClamp,
        boolean windowScaling,
        int sndWscale,
        int rcvWscale,
        boolean sackPermitted,
        boolean timestamps,
        int tsVal,
        RepairWindow window,
        SocketOptions options) {

    public ConnectionState {
        Objects.requireNonNull(local, "local");
        Objects.requireNonNull(remote, "remote");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(unacked, "unacked");
        Objects.requireNonNull(unsent, "unsent");
        Objects.requireNonNull(received, "received");
        Objects.requireNonNull(window, "window");
        Objects.requireNonNull(options, "options");
        if (local.getAddress().getClass() != remote.getAddress().getClass()) {
            throw new IllegalArgumentException("local and remote address families differ: " + local + " " + remote);
        }
    }

    /** Sequence number of the first byte of the send queue (snd_una). */
    public int sendQueueSeq() {
        return writeSeq - (state.finSent() ? 1 : 0) - unacked.length - unsent.length;
    }

    /** Sequence number of the first unread byte of the receive queue (copied_seq). */
    public int receiveQueueSeq() {
        return rcvNxt - (state.finReceived() ? 1 : 0) - received.length;
    }

    /** {@code 10.0.0.2:5000->10.0.0.1:40000}, the flow's name in logs and errors. */
    public String flow() {
        return SockAddr.format(local) + "->" + SockAddr.format(remote);
    }

    /** The same connection with another receive queue, as the host hands back what it spooled. */
    public ConnectionState withReceived(byte[] newReceived) {
        return new ConnectionState(local, remote, state, writeSeq, unacked, unsent, rcvNxt, newReceived, mssClamp,
                windowScaling, sndWscale, rcvWscale, sackPermitted, timestamps, tsVal, window, options);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof ConnectionState)) {
            return false;
        }
        ConnectionState that = (ConnectionState) o;
        return writeSeq == that.writeSeq && rcvNxt == that.rcvNxt && mssClamp == that.mssClamp
                && windowScaling == that.windowScaling && sndWscale == that.sndWscale && rcvWscale == that.rcvWscale
                && sackPermitted == that.sackPermitted && timestamps == that.timestamps && tsVal == that.tsVal
                && local.equals(that.local) && remote.equals(that.remote) && state == that.state
                && Arrays.equals(unacked, that.unacked) && Arrays.equals(unsent, that.unsent)
                && Arrays.equals(received, that.received) && window.equals(that.window) && options.equals(that.options);
    }

    @Override
    public int hashCode() {
        return Objects.hash(local, remote, state, writeSeq, rcvNxt, Arrays.hashCode(unacked), Arrays.hashCode(unsent),
                Arrays.hashCode(received), window, options);
    }

    /** A summary without the queued bytes. */
    @Override
    public String toString() {
        return "ConnectionState[" + flow() + " " + state
                + " writeSeq=" + Integer.toUnsignedString(writeSeq)
                + " unacked=" + unacked.length + "B unsent=" + unsent.length + "B"
                + " rcvNxt=" + Integer.toUnsignedString(rcvNxt) + " received=" + received.length + "B"
                + " mss=" + mssClamp + (windowScaling ? " wscale=" + sndWscale + "/" + rcvWscale : "")
                + (sackPermitted ? " sack" : "") + (timestamps ? " ts=" + Integer.toUnsignedString(tsVal) : "")
                + " " + window + " " + options + "]";
    }
}
