package org.tcpferry.repair;

/**
 * The window state that TCP_REPAIR_WINDOW reads and writes, field for field:
 *
 * <pre>
 * struct tcp_repair_window {
 *     __u32 snd_wl1;     // sequence of the segment that last updated the send window
 *     __u32 snd_wnd;     // the peer's advertised window, in bytes
 *     __u32 max_window;  // the largest window the peer ever advertised
 *     __u32 rcv_wnd;     // the window we advertise, in bytes
 *     __u32 rcv_wup;     // rcv_nxt when the window was last advertised
 * };
 * </pre>
 *
 * Sequence numbers are unsigned 32-bit values held in an int. The kernel checks on write that
 * {@code max_window >= snd_wnd}, that {@code snd_wl1} is not after {@code rcv_nxt + rcv_wnd}, and
 * that {@code rcv_wup} is not after rcv_nxt.
 */
public record RepairWindow(int sndWl1, int sndWnd, int maxWindow, int rcvWnd, int rcvWup) {
    public static final int SIZE = 20;

    static RepairWindow decode(byte[] raw) {
        return new RepairWindow(le32(raw, 0), le32(raw, 4), le32(raw, 8), le32(raw, 12), le32(raw, 16));
    }

    byte[] encode() {
        byte[] raw = new byte[SIZE];
        put32(raw, 0, sndWl1);
        put32(raw, 4, sndWnd);
        put32(raw, 8, maxWindow);
        put32(raw, 12, rcvWnd);
        put32(raw, 16, rcvWup);
        return raw;
    }

    RepairWindow withSndWl1(int value) {
        return new RepairWindow(value, sndWnd, maxWindow, rcvWnd, rcvWup);
    }

    RepairWindow withRcvWup(int value) {
        return new RepairWindow(sndWl1, sndWnd, maxWindow, rcvWnd, value);
    }

    static int le32(byte[] b, int off) {
        return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8 | (b[off + 2] & 0xff) << 16 | (b[off + 3] & 0xff) << 24;
    }

    static void put32(byte[] b, int off, int v) {
        b[off] = (byte) v;
        b[off + 1] = (byte) (v >>> 8);
        b[off + 2] = (byte) (v >>> 16);
        b[off + 3] = (byte) (v >>> 24);
    }
}
