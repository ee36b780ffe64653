package org.tcpferry.diag;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;
import org.tcpferry.repair.TcpState;
import org.tcpferry.sys.LibC;

/** The inet_diag byte layouts, checked on hand-built messages. */
class InetDiagCodecTest {

    @Test
    void requestCarriesFamilyProtocolAndStateBits() {
        byte[] raw = InetDiagCodec.dumpRequest(LibC.AF_INET6,
                InetDiagCodec.stateMask(EnumSet.of(TcpState.ESTABLISHED, TcpState.LISTEN)));
        ByteBuffer request = ByteBuffer.wrap(raw).order(ByteOrder.nativeOrder());
        assertThat(raw).hasSize(16 + 56);
        assertThat(request.getInt(0)).isEqualTo(72);
        assertThat(request.getShort(4)).isEqualTo((short) 20);
        assertThat(request.getShort(6)).isEqualTo((short) 0x301);
        assertThat(raw[16]).isEqualTo((byte) LibC.AF_INET6);
        assertThat(raw[17]).isEqualTo((byte) LibC.IPPROTO_TCP);
        assertThat(request.getInt(20)).isEqualTo(1 << 1 | 1 << 10);
    }

    @Test
    void decodesAnIpv4MessageWithItsCgroupAttribute() throws IOException {
        ByteBuffer message = message(LibC.AF_INET, TcpState.CLOSE_WAIT, 5000, 40000,
                new byte[] {10, 0, 0, 2}, new byte[] {10, 0, 0, 1}, 0, 1000, 123456789L);
        // an unrelated attribute before the one we want: INET_DIAG_SHUTDOWN (8), one byte padded to 4
        message.putShort((short) 5).putShort((short) 8).put((byte) 1).put(new byte[3]);
        message.putShort((short) 12).putShort((short) InetDiagCodec.INET_DIAG_CGROUP_ID).putLong(4242L);
        message.flip();

        TcpSocketInfo info = InetDiagCodec.decode(message);
        assertThat(info).isEqualTo(new TcpSocketInfo(TcpState.CLOSE_WAIT,
                new InetSocketAddress(InetAddress.getByName("10.0.0.2"), 5000),
                new InetSocketAddress(InetAddress.getByName("10.0.0.1"), 40000), 123456789L, 1000, 4242L, LibC.AF_INET));
        assertThat(info.flow()).isEqualTo("10.0.0.2:5000->10.0.0.1:40000");
    }

    @Test
    void decodesIpv6WithMappedAndLinkLocalAddresses() throws IOException {
        byte[] mapped = InetAddress.getByName("::ffff:192.0.2.7").getAddress(); // Java gives 4 bytes back
        byte[] mapped16 = new byte[16];
        mapped16[10] = (byte) 0xff;
        mapped16[11] = (byte) 0xff;
        System.arraycopy(mapped, 0, mapped16, 12, 4);
        byte[] linkLocal = InetAddress.getByName("fe80::1").getAddress();
        ByteBuffer message = message(LibC.AF_INET6, TcpState.ESTABLISHED, 443, 50000, linkLocal, mapped16, 3, 0, 0);
        message.flip();

        TcpSocketInfo info = InetDiagCodec.decode(message);
        assertThat(info.local().getAddress()).isInstanceOf(Inet6Address.class);
        assertThat(((Inet6Address) info.local().getAddress()).getScopeId()).isEqualTo(3);
        assertThat(info.remote().getAddress()).isEqualTo(InetAddress.getByName("192.0.2.7"));
        assertThat(info.cgroupId()).isZero();
    }

    @Test
    void refusesAnAttributeThatOverrunsTheMessage() {
        ByteBuffer message = message(LibC.AF_INET, TcpState.ESTABLISHED, 1, 2, new byte[4], new byte[4], 0, 0, 1);
        message.putShort((short) 40).putShort((short) InetDiagCodec.INET_DIAG_CGROUP_ID).putLong(1);
        message.flip();
        assertThatThrownBy(() -> InetDiagCodec.decode(message)).isInstanceOf(IOException.class)
                .hasMessageContaining("overruns");
    }

    /** An inet_diag_msg, positioned after its fixed 72 bytes so that attributes can follow. */
    private static ByteBuffer message(int family, TcpState state, int sport, int dport, byte[] src, byte[] dst,
            int ifIndex, int uid, long inode) {
        ByteBuffer m = ByteBuffer.allocate(256).order(ByteOrder.nativeOrder());
        m.put((byte) family).put((byte) state.kernelValue).put((byte) 0).put((byte) 0);
        m.put((byte) (sport >>> 8)).put((byte) sport).put((byte) (dport >>> 8)).put((byte) dport);
        m.put(8, src).put(24, dst);
        m.putInt(40, ifIndex);
        m.putInt(64, uid).putInt(68, (int) inode);
        m.position(72);
        return m;
    }
}
