package org.tcpferry.repair;

import org.tcpferry.sys.LibC;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.SockOpt;
import org.tcpferry.sys.SyscallException;

/**
 * The fields of {@code struct tcp_info} (linux/tcp.h) that tcpferry reads, at their offsets:
 *
 * <pre>
 * struct tcp_info {
 *     __u8  tcpi_state;            //  0
 *     __u8  tcpi_ca_state;         //  1
 *     __u8  tcpi_retransmits;      //  2
 *     __u8  tcpi_probes;           //  3
 *     __u8  tcpi_backoff;          //  4
 *     __u8  tcpi_options;          //  5  TCPI_OPT_TIMESTAMPS 1, _SACK 2, _WSCALE 4
 *     __u8  tcpi_snd_wscale : 4,   //  6  low nibble
 *           tcpi_rcv_wscale : 4;   //  6  high nibble
 *     __u8  ...;                   //  7
 *     __u32 tcpi_rto;              //  8  microseconds
 *     __u32 tcpi_ato;              // 12
 *     __u32 tcpi_snd_mss;          // 16
 *     __u32 tcpi_rcv_mss;          // 20
 *     __u32 tcpi_unacked;          // 24  segments
 *     ...
 *     __u32 tcpi_snd_cwnd;         // 80
 * };
 * </pre>
 */
public record TcpInfo(TcpState state, int options, int sndWscale, int rcvWscale, int rtoMicros, int sndMss,
        int rcvMss, int unackedSegments, int sndCwnd) {

    private static final int READ_LENGTH = 104;

    public static TcpInfo of(NativeSocket socket) throws SyscallException {
        byte[] raw = socket.getBytes(SockOpt.TCP_INFO, READ_LENGTH);
        if (raw.length < 84) {
            throw new IllegalStateException("kernel returned a " + raw.length + "-byte tcp_info on " + socket);
        }
        return new TcpInfo(TcpState.ofKernel(raw[0] & 0xff), raw[5] & 0xff, raw[6] & 0x0f, (raw[6] & 0xf0) >>> 4,
                RepairWindow.le32(raw, 8), RepairWindow.le32(raw, 16), RepairWindow.le32(raw, 20),
                RepairWindow.le32(raw, 24), RepairWindow.le32(raw, 80));
    }

    public boolean timestamps() {
        return (options & LibC.TCPI_OPT_TIMESTAMPS) != 0;
    }

    public boolean sack() {
        return (options & LibC.TCPI_OPT_SACK) != 0;
    }

    public boolean windowScaling() {
        return (options & LibC.TCPI_OPT_WSCALE) != 0;
    }
}
