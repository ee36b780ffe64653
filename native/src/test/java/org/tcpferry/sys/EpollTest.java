package org.tcpferry.sys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** The epoll wrapper on a loopback pair: what is registered and wanted is reported, nothing else. */
class EpollTest {
    @Test
    void reportsReadableSocketsUntilInterestIsDroppedOrTheyAreRemoved() throws Exception {
        try (NativeSocket listener = NativeSocket.tcp(LibC.AF_INET)) {
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            listener.listen(4);
            try (NativeSocket client = NativeSocket.tcp(LibC.AF_INET)) {
                client.connect(listener.localAddress());
                try (NativeSocket peer = listener.accept(); Epoll epoll = new Epoll("test", 4)) {
                    epoll.add(client.fd(), LibC.EPOLLIN, "client");
                    assertThat(epoll.await(0)).as("nothing to read yet").isZero();

                    peer.send(new byte[] {1, 2, 3}, 3, LibC.MSG_NOSIGNAL);
                    assertThat(epoll.await(1000)).isEqualTo(1);
                    assertThat(epoll.readyFd(0)).isEqualTo(client.fd());
                    assertThat(epoll.readyEvents(0) & LibC.EPOLLIN).isEqualTo(LibC.EPOLLIN);
                    assertThat(epoll.await(0)).as("level-triggered: still unread").isEqualTo(1);

                    epoll.modify(client.fd(), 0, "client");
                    assertThat(epoll.await(0)).as("readable but not wanted").isZero();

                    epoll.modify(client.fd(), LibC.EPOLLIN, "client");
                    assertThat(epoll.await(0)).isEqualTo(1);

                    epoll.remove(client.fd(), "client");
                    assertThat(epoll.await(0)).as("removed").isZero();
                    assertThatThrownBy(() -> epoll.remove(client.fd(), "10.0.0.1:1->10.0.0.2:2"))
                            .isInstanceOf(SyscallException.class)
                            .hasMessageContaining("EPOLL_CTL_DEL")
                            .hasMessageContaining("10.0.0.1:1->10.0.0.2:2");
                }
            }
        }
    }
}
