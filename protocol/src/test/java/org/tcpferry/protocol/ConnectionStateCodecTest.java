package org.tcpferry.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.Inet6Address;
import java.net.InetSocketAddress;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Arbitrary;
import org.junit.jupiter.api.Test;
import org.tcpferry.repair.ConnectionState;
import org.tcpferry.repair.RepairWindow;
import org.tcpferry.repair.SocketOptions;
import org.tcpferry.repair.TcpState;

class ConnectionStateCodecTest {

    @Provide
    Arbitrary<ConnectionState> states() {
        return WireArbitraries.connectionStates();
    }

    @Property(tries = 300)
    void decodeOfEncodeIsTheSameState(@ForAll("states") ConnectionState state) throws Exception {
        ConnectionState back = ConnectionStateCodec.decode(ConnectionStateCodec.encode(state));

        assertThat(back).isEqualTo(state);
        // equals() ignores what InetAddress.equals ignores: check the rest field by field.
        assertThat(back.local().getAddress().getClass()).isEqualTo(state.local().getAddress().getClass());
        assertThat(scope(back.local())).isEqualTo(scope(state.local()));
        assertThat(scope(back.remote())).isEqualTo(scope(state.remote()));
    }

    @Property(tries = 100)
    void everyStrictPrefixIsMalformed(@ForAll("states") ConnectionState state) {
        byte[] encoded = ConnectionStateCodec.encode(state);
        // Every field boundary and a sample of offsets inside the queues: all must fail cleanly.
        for (int cut = 0; cut < encoded.length; cut += cut < 200 ? 1 : Math.max(1, encoded.length / 50)) {
            byte[] prefix = java.util.Arrays.copyOf(encoded, cut);
            assertThatThrownBy(() -> ConnectionStateCodec.decode(prefix))
                    .isInstanceOf(ProtocolException.class)
                    .extracting(e -> ((ProtocolException) e).code()).isEqualTo(ErrorCode.MALFORMED);
        }
    }

    @Test
    void ipv6ScopeAndMappedAddressesSurvive() throws Exception {
        byte[] linkLocal = {(byte) 0xfe, (byte) 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 10, 0, 0, 2};
        ConnectionState state = sample(new InetSocketAddress(WireArbitraries.v6(linkLocal, 42), 5000),
                new InetSocketAddress(WireArbitraries.v6(mapped, 0), 40000));

        ConnectionState back = ConnectionStateCodec.decode(ConnectionStateCodec.encode(state));

        assertThat(scope(back.local())).isEqualTo(42);
        assertThat(back.remote().getAddress()).isInstanceOf(Inet6Address.class);
        assertThat(back.flow()).isEqualTo("[fe80:0:0:0:0:0:0:7]:5000->[0:0:0:0:0:ffff:a00:2]:40000");
    }

    @Test
    void mixedAddressFamiliesAreMalformed() {
        // v4 local then v6 remote, written by hand since ConnectionState itself refuses the mix.
        WireWriter w = new WireWriter();
        w.socketAddress(new InetSocketAddress(WireArbitraries.v4(new byte[] {10, 0, 0, 2}), 1));
        w.socketAddress(new InetSocketAddress(WireArbitraries.v6(new byte[16], 0), 2));
        byte[] rest = ConnectionStateCodec.encode(v4Sample());
        byte[] tail = java.util.Arrays.copyOfRange(rest, 14, rest.length); // after two 7-byte v4 addresses
        w.raw(tail);

        assertThatThrownBy(() -> ConnectionStateCodec.decode(w.toByteArray()))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("families differ");
    }

    @Test
    void unknownTcpStateIsMalformed() {
        byte[] encoded = ConnectionStateCodec.encode(v4Sample());
        encoded[14] = 99; // the state byte follows two 7-byte v4 addresses

        assertThatThrownBy(() -> ConnectionStateCodec.decode(encoded))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("unknown kernel TCP state 99");
    }

    @Test
    void unknownFlagBitsAreMalformed() {
        byte[] encoded = ConnectionStateCodec.encode(v4Sample());
        // Empty queues: 14 address + 1 state + 4 writeSeq + 4 + 4 queue lengths + 4 rcvNxt + 4 received + 4 mss.
        int tcpOptions = 14 + 1 + 4 + 4 + 4 + 4 + 4 + 4;
        encoded[tcpOptions] = (byte) 0x80;

        assertThatThrownBy(() -> ConnectionStateCodec.decode(encoded))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("tcpOptions: unknown bits 0x80");
    }

    @Test
    void trailingBytesAreMalformed() {
        byte[] encoded = ConnectionStateCodec.encode(v4Sample());
        byte[] longer = java.util.Arrays.copyOf(encoded, encoded.length + 1);

        assertThatThrownBy(() -> ConnectionStateCodec.decode(longer))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("1 trailing bytes");
    }

    @Test
    void hugeDeclaredQueueLengthIsMalformedWithoutAllocating() {
        byte[] encoded = ConnectionStateCodec.encode(v4Sample());
        int unackedLength = 14 + 1 + 4;
        encoded[unackedLength] = 0x7f;
        encoded[unackedLength + 1] = (byte) 0xff;

        assertThatThrownBy(() -> ConnectionStateCodec.decode(encoded))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("unacked: count");
    }

    private static ConnectionState v4Sample() {
        return sample(new InetSocketAddress(WireArbitraries.v4(new byte[] {10, 0, 0, 2}), 5000),
                new InetSocketAddress(WireArbitraries.v4(new byte[] {10, 0, 0, 1}), 40000));
    }

    static ConnectionState sample(InetSocketAddress local, InetSocketAddress remote) {
        return new ConnectionState(local, remote, TcpState.ESTABLISHED, 1000, new byte[0], new byte[0], 2000,
                new byte[0], 1460, true, 7, 7, true, true, 12345, new RepairWindow(2000, 65535, 65535, 65535, 2000),
                new SocketOptions(true, false, 7200, 75, 9, 0, 131072, 16384));
    }

    private static int scope(InetSocketAddress a) {
        return a.getAddress() instanceof Inet6Address v6 ? v6.getScopeId() : -1;
    }
}
