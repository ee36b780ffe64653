package org.tcpferry.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** An IPv6 address without a scope comes back without one: "fd77::2", never "fd77::2%0". */
class AddressScopeTest {
    @Test
    void unscopedIpv6AddressStaysUnscoped() throws Exception {
        FlowKey flow = new FlowKey(new InetSocketAddress(InetAddress.getByName("fd77::2"), 40000),
                new InetSocketAddress(InetAddress.getByName("fd77::1"), 5000));
        byte[] wire = MessageCodec.toBytes(1, new HandoffAccepted(flow, new byte[] {1, 2, 3}));
        Frame frame = new FrameDecoder(Frames.DEFAULT_MAX_PAYLOAD).tryDecode(java.nio.ByteBuffer.wrap(wire));
        HandoffAccepted back = (HandoffAccepted) MessageCodec.decode(frame);

        Inet6Address local = (Inet6Address) back.flow().local().getAddress();
        assertThat(local.getHostAddress()).doesNotContain("%");
        assertThat(local.getScopedInterface()).isNull();
        assertThat(back.flow()).isEqualTo(flow);
    }

    @Test
    void scopedLinkLocalAddressKeepsItsScope() throws Exception {
        InetSocketAddress scoped = new InetSocketAddress(Inet6Address.getByAddress(null,
                InetAddress.getByName("fe80::1").getAddress(), 3), 5000);
        FlowKey flow = new FlowKey(scoped, new InetSocketAddress(Inet6Address.getByAddress(null,
                InetAddress.getByName("fe80::2").getAddress(), 3), 6000));
        byte[] wire = MessageCodec.toBytes(1, new HandoffAccepted(flow, new byte[] {1}));
        Frame frame = new FrameDecoder(Frames.DEFAULT_MAX_PAYLOAD).tryDecode(java.nio.ByteBuffer.wrap(wire));
        HandoffAccepted back = (HandoffAccepted) MessageCodec.decode(frame);
        assertThat(((Inet6Address) back.flow().local().getAddress()).getScopeId()).isEqualTo(3);
    }
}
