package org.tcpferry.tests.repair;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tcpferry.testsupport.SocketIo.*;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tcpferry.repair.ConnectionState;
import org.tcpferry.repair.RestoreOptions;
import org.tcpferry.repair.TcpInfo;
import org.tcpferry.repair.TcpRepair;
import org.tcpferry.repair.TcpState;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.rig.StandardTopology;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.SockAddr;
import org.tcpferry.sys.SockOpt;

/**
 * A guest's connection with data in flight both ways is dumped, the guest stops answering, and a
 * fresh socket in another namespace that takes over the guest's address is restored from the
 * dump. Both byte streams then complete, byte-exact, and the peer never sees a reset.
 */
@KernelTest
class RestoreInAnotherNamespaceTest {
    private static final int PORT = 5000;

    @ParameterizedTest(name = "IPv{0}")
    @ValueSource(ints = {4, 6})
    void bothStreamsCompleteAfterTheAddressMoves(int ipVersion) throws Exception {
        try (StandardTopology net = StandardTopology.create("repair-restore")) {
            InetAddress peerIp = InetAddress.getByName(ipVersion == 4 ? StandardTopology.PEER_V4 : StandardTopology.PEER_V6);
            int family = SockAddr.family(peerIp);
            InetSocketAddress service = new InetSocketAddress(peerIp, PORT);

            NativeSocket listener = net.peer().netns().call(() -> {
                NativeSocket s = NativeSocket.tcp(family);
                s.bind(service);
                s.listen(4);
                return s;
            });
            NativeSocket original = net.guest().netns().call(() -> {
                NativeSocket s = NativeSocket.tcp(family);
                s.connect(service);
                return s;
            });
            NativeSocket peer = listener.accept();
            listener.close();

            byte[] toGuest = randomBytes(40_000, 11);
            byte[] toPeer = randomBytes(600_000, 12);
            sendAll(peer, toGuest, 2000);
            Thread.sleep(100); // the guest does not read: these bytes wait in its receive queue
            int mssBefore = TcpInfo.of(original).sndMss();

            // From now on the guest never hears the peer's ACKs: what it sends stays in flight
            // (unacked), and what the congestion window holds back stays unsent.
            net.guest().nft("table inet deaf {\n  chain in {\n    type filter hook input priority 0; policy accept;\n"
                    + "    ip saddr " + StandardTopology.PEER_V4 + " drop\n"
                    + "    ip6 saddr " + StandardTopology.PEER_V6 + " drop\n  }\n}\n");
            int queuedByGuest = fill(original, toPeer);
            Thread.sleep(300);

            net.guestLink().down(); // the guest stops answering
            ConnectionState state = TcpRepair.dump(original);
            TcpRepair.closeSilently(original);

            assertThat(state.received()).isEqualTo(toGuest);
            assertThat(state.unacked()).as("bytes in flight").isNotEmpty();
            assertThat(state.unsent()).as("bytes never sent").isNotEmpty();
            assertThat(state.unacked().length + state.unsent().length).isLessThanOrEqualTo(queuedByGuest);

            net.guest2Link().up();
            StandardTopology.announce(net.guest2());
            NativeSocket copy = net.guest2().netns().call(() -> TcpRepair.restore(state, RestoreOptions.plain()));

            // The new owner writes the rest of the stream; the peer reads all of it.
            byte[] rest = Arrays.copyOfRange(toPeer, queuedByGuest, toPeer.length);
            Thread writer = new Thread(() -> {
                try {
                    sendAll(copy, rest, 10_000);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "copy-writer");
            writer.start();
            byte[] peerGot = readExactly(peer, toPeer.length, 10_000);
            writer.join(10_000);
            int skipped = toPeer.length - state.unacked().length - state.unsent().length - rest.length;
            assertThat(peerGot).as("the peer's stream, byte-exact").isEqualTo(toPeer);
            assertThat(skipped).as("bytes the peer acknowledged before the dump").isGreaterThanOrEqualTo(0);

            byte[] more = randomBytes(70_000, 13);
            sendAll(peer, more, 5000);
            assertThat(readExactly(copy, toGuest.length + more.length, 10_000)).isEqualTo(concat(toGuest, more));

            assertThat(peer.getInt(SockOpt.SO_ERROR)).as("no reset on the peer").isZero();
            assertThat(TcpInfo.of(peer).state()).isEqualTo(TcpState.ESTABLISHED);
            assertThat(TcpInfo.of(copy).sndMss()).as("MSS over a 1500-byte link").isEqualTo(mssBefore);
            copy.close();
            peer.close();
        }
    }
}
