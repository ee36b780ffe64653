package org.tcpferry.protocol;

import org.tcpferry.repair.ConnectionState;
import org.tcpferry.repair.RepairWindow;
import org.tcpferry.repair.SocketOptions;
import org.tcpferry.repair.TcpState;

/**
 * The exact binary form of a {@link ConnectionState}: every field, so that
 * {@code decode(encode(s)).equals(s)}. Layout, big-endian:
 *
 * <pre>
 * local, remote       socket address each: u8 family (4|6), 4|16 address bytes,
 *                     IPv6 only: u32 scope id, then u16 port
 * state               u8  kernel value (TcpState.kernelValue)
 * writeSeq            u32
 * unacked, unsent     u32 length + bytes each
 * rcvNxt              u32
 * received            u32 length + bytes
 * mssClamp            u32
 * tcpOptions          u8  bit 0 windowScaling, bit 1 sackPermitted, bit 2 timestamps; others must be 0
 * sndWscale,rcvWscale u8 each
 * tsVal               u32
 * window              u32 x5: sndWl1, sndWnd, maxWindow, rcvWnd, rcvWup
 * socketFlags         u8  bit 0 noDelay, bit 1 keepAlive; others must be 0
 * keepIdleSeconds, keepIntervalSeconds, keepCount, userTimeoutMillis, receiveBuffer, sendBuffer  u32 each
 * </pre>
 */
public final class ConnectionStateCodec {
    private static final int WINDOW_SCALING = 1;
    private static final int SACK_PERMITTED = 2;
    private static final int TIMESTAMPS = 4;
    private static final int NO_DELAY = 1;
    private static final int KEEP_ALIVE = 2;

    private ConnectionStateCodec() {}

    public static byte[] encode(ConnectionState state) {
        WireWriter w = new WireWriter(128 + state.unacked().length + state.unsent().length + state.received().length);
        write(w, state);
        return w.toByteArray();
    }

    /** Decodes exactly one state; bytes left over are MALFORMED. */
    public static ConnectionState decode(byte[] encoded) throws ProtocolException {
        WireReader r = new WireReader(encoded);
        ConnectionState state = read(r);
        r.expectEnd("connection state");
        return state;
    }

    static void write(WireWriter w, ConnectionState s) {
        w.socketAddress(s.local()).socketAddress(s.remote());
        w.u8(s.state().kernelValue);
        w.u32(s.writeSeq()).bytes(s.unacked()).bytes(s.unsent());
        w.u32(s.rcvNxt()).bytes(s.received());
        w.u32(s.mssClamp());
        w.u8((s.windowScaling() ? WINDOW_SCALING : 0) | (s.sackPermitted() ? SACK_PERMITTED : 0)
                | (s.timestamps() ? TIMESTAMPS : 0));
        w.u8(s.sndWscale()).u8(s.rcvWscale());
        w.u32(s.tsVal());
        RepairWindow win = s.window();
        w.u32(win.sndWl1()).u32(win.sndWnd()).u32(win.maxWindow()).u32(win.rcvWnd()).u32(win.rcvWup());
        SocketOptions o = s.options();
        w.u8((o.noDelay() ? NO_DELAY : 0) | (o.keepAlive() ? KEEP_ALIVE : 0));
        w.u32(o.keepIdleSeconds()).u32(o.keepIntervalSeconds()).u32(o.keepCount()).u32(o.userTimeoutMillis());
        w.u32(o.receiveBuffer()).u32(o.sendBuffer());
    }

    static ConnectionState read(WireReader r) throws ProtocolException {
        var local = r.socketAddress("local");
        var remote = r.socketAddress("remote");
        TcpState state = tcpState(r.u8("state"));
        int writeSeq = r.u32("writeSeq");
        byte[] unacked = r.bytes("unacked");
        byte[] unsent = r.bytes("unsent");
        int rcvNxt = r.u32("rcvNxt");
        byte[] received = r.bytes("received");
        int mssClamp = r.u32("mssClamp");
        int tcpOptions = flags(r.u8("tcpOptions"), WINDOW_SCALING | SACK_PERMITTED | TIMESTAMPS, "tcpOptions");
        int sndWscale = r.u8("sndWscale");
        int rcvWscale = r.u8("rcvWscale");
        int tsVal = r.u32("tsVal");
        RepairWindow window = new RepairWindow(r.u32("window.sndWl1"), r.u32("window.sndWnd"),
                r.u32("window.maxWindow"), r.u32("window.rcvWnd"), r.u32("window.rcvWup"));
        int socketFlags = flags(r.u8("socketFlags"), NO_DELAY | KEEP_ALIVE, "socketFlags");
        SocketOptions options = new SocketOptions((socketFlags & NO_DELAY) != 0, (socketFlags & KEEP_ALIVE) != 0,
                r.u32("keepIdleSeconds"), r.u32("keepIntervalSeconds"), r.u32("keepCount"),
                r.u32("userTimeoutMillis"), r.u32("receiveBuffer"), r.u32("sendBuffer"));
        if (local.getAddress().getClass() != remote.getAddress().getClass()) {
            throw new ProtocolException(ErrorCode.MALFORMED,
                    "connection state: local and remote address families differ: " + local + " " + remote);
        }
        return new ConnectionState(local, remote, state, writeSeq, unacked, unsent, rcvNxt, received, mssClamp,
                (tcpOptions & WINDOW_SCALING) != 0, sndWscale, rcvWscale, (tcpOptions & SACK_PERMITTED) != 0,
                (tcpOptions & TIMESTAMPS) != 0, tsVal, window, options);
    }

    private static TcpState tcpState(int kernelValue) throws ProtocolException {
        for (TcpState s : TcpState.values()) {
            if (s.kernelValue == kernelValue) {
                return s;
            }
        }
        throw new ProtocolException(ErrorCode.MALFORMED, "state: unknown kernel TCP state " + kernelValue);
    }

    /** Unknown bits mean a newer writer or corruption; either way this reader would drop information. */
    private static int flags(int value, int known, String field) throws ProtocolException {
        if ((value & ~known) != 0) {
            throw new ProtocolException(ErrorCode.MALFORMED, field + ": unknown bits 0x" + Integer.toHexString(value & ~known));
        }
        return value;
    }
}
