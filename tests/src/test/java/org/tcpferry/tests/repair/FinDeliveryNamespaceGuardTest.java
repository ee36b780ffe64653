package org.tcpferry.tests.repair;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.tcpferry.testsupport.SocketIo.*;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;
import org.tcpferry.repair.ConnectionState;
import org.tcpferry.repair.TcpInfo;
import org.tcpferry.repair.TcpRepair;
import org.tcpferry.repair.TcpState;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.rig.StandardTopology;
import org.tcpferry.sys.LibC;
import org.tcpferry.sys.NativeSocket;

/**
 * Delivering a peer's FIN takes a raw packet sent inside the socket's own network namespace; sent
 * from anywhere else it would be routed there, possibly out of the machine. A conform called from
 * the wrong namespace is refused before the socket is touched.
 */
@KernelTest
class FinDeliveryNamespaceGuardTest {
    @Test
    void conformFromAnotherNamespaceIsRefusedAndChangesNothing() throws Exception {
        try (StandardTopology net = StandardTopology.create("fin-guard")) {
            InetSocketAddress service = new InetSocketAddress(InetAddress.getByName(StandardTopology.PEER_V4), 5002);
            NativeSocket listener = net.peer().netns().call(() -> {
                NativeSocket s = NativeSocket.tcp(LibC.AF_INET);
                s.bind(service);
                s.listen(1);
                return s;
            });
            NativeSocket guestSide = net.guest().netns().call(() -> {
                NativeSocket s = NativeSocket.tcp(LibC.AF_INET);
                s.connect(service);
                return s;
            });
            NativeSocket peer = listener.accept();
            peer.shutdown(LibC.SHUT_WR);
            Thread.sleep(100);
            ConnectionState closeWait = TcpRepair.dump(guestSide);
            TcpRepair.resume(guestSide);
            assertThat(closeWait.state()).isEqualTo(TcpState.CLOSE_WAIT);

            // This test thread is in the root namespace, not the guest's.
            assertThatThrownBy(() -> TcpRepair.conformInPlace(guestSide, closeWait))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("cannot deliver the peer's FIN")
                    .hasMessageContaining("NetNamespace.call");

            assertThat(TcpInfo.of(guestSide).state()).as("untouched").isEqualTo(TcpState.CLOSE_WAIT);
            sendAll(guestSide, "still here".getBytes(), 2000);
            assertThat(readExactly(peer, 10, 2000)).isEqualTo("still here".getBytes());
            guestSide.close();
            peer.close();
            listener.close();
        }
    }
}
