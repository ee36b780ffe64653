package org.tcpferry.tests.repair;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tcpferry.testsupport.SocketIo.*;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tcpferry.repair.ConnectionState;
import org.tcpferry.repair.RestoreOptions;
import org.tcpferry.repair.TcpRepair;
import org.tcpferry.repair.TcpState;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.rig.StandardTopology;
import org.tcpferry.sys.LibC;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.Pidfd;
import org.tcpferry.sys.SockOpt;
import org.tcpferry.testsupport.Owner;

/**
 * The whole cycle on an application that knows nothing of tcpferry: a bash process holding a TCP
 * connection on fd 3, one cat streaming a file out of it and one cat writing what arrives to a
 * file. It is frozen, its socket reached through pidfd_getfd, dumped and detached; a copy in
 * another namespace holds the connection while the peer keeps sending; then the copy's final
 * state conforms the original socket in place and the owner continues. The owner's fd 3 still
 * names the same socket, neither cat sees an error, and both streams arrive byte-exact.
 */
@KernelTest
class ConformInPlaceWithOwnerProcessTest {
    private static final int PORT = 5001;
    private static final int OWNER_FD = 3;

    @Test
    void ownerKeepsItsDescriptorAndNeverSeesAnError(@TempDir Path dir) throws Exception {
        try (StandardTopology net = StandardTopology.create("repair-conform")) {
            InetAddress peerIp = InetAddress.getByName(StandardTopology.PEER_V4);
            byte[] toPeer = randomBytes(800_000, 21);
            Files.write(dir.resolve("to-peer.bin"), toPeer);

            NativeSocket listener = net.peer().netns().call(() -> {
                NativeSocket s = NativeSocket.tcp(LibC.AF_INET);
                s.setInt(SockOpt.SO_RCVBUF, 4096);
                s.bind(new InetSocketAddress(peerIp, PORT));
                s.listen(4);
                return s;
            });
            String script = "exec 3<>/dev/tcp/" + StandardTopology.PEER_V4 + "/" + PORT + " || exit 9\n"
                    + "{ cat <&3 > " + dir.resolve("received.bin") + "; echo $? > " + dir.resolve("rx.status") + "; } &\n"
                    + "cat " + dir.resolve("to-peer.bin") + " >&3; echo $? > " + dir.resolve("tx.status") + "\n"
                    + "wait\n";
            Owner owner = new Owner(net.guest().spawn("bash", "-c", script));
            NativeSocket peer = listener.accept();
            listener.close();

            ByteArrayOutputStream toGuest = new ByteArrayOutputStream();
            byte[] first = randomBytes(50_000, 22);
            sendAll(peer, first, 2000);
            toGuest.write(first);
            Thread.sleep(300); // the peer does not read yet: the owner's cat blocks with data queued

            owner.stop();
            String fdBefore = owner.fdTarget(OWNER_FD);
            NativeSocket original = NativeSocket.adopt(Pidfd.duplicate((int) owner.pid(), OWNER_FD), "owner fd 3");
            net.guestLink().down();
            ConnectionState atFreeze = TcpRepair.dump(original);
            TcpRepair.detach(original);
            assertThat(atFreeze.unacked().length + atFreeze.unsent().length).as("queued at freeze").isPositive();

            // The hold: a copy elsewhere carries the connection; the peer reads and keeps sending.
            net.guest2Link().up();
            StandardTopology.announce(net.guest2());
            NativeSocket copy = net.guest2().netns().call(() -> TcpRepair.restore(atFreeze, RestoreOptions.plain()));
            ByteArrayOutputStream spooled = new ByteArrayOutputStream();
            ByteArrayOutputStream peerGot = new ByteArrayOutputStream();
            for (int i = 0; i < 10; i++) {
                byte[] more = randomBytes(20_000, 100 + i);
                sendAll(peer, more, 2000);
                toGuest.write(more);
                peerGot.write(drain(peer));
                spooled.write(drain(copy));
                Thread.sleep(50);
            }
            peer.shutdown(LibC.SHUT_WR); // and the peer finishes its side during the hold
            Thread.sleep(100);
            spooled.write(drain(copy));

            // Hand back.
            net.guest2Link().down();
            ConnectionState held = TcpRepair.dump(copy);
            TcpRepair.closeSilently(copy);
            assertThat(held.state()).isEqualTo(TcpState.CLOSE_WAIT);
            net.guestLink().up();
            StandardTopology.announce(net.guest());
            ConnectionState handBack = held.withReceived(concat(spooled.toByteArray(), held.received()));
            // In the guest's namespace: the peer's FIN is delivered there, over its loopback.
            net.guest().netns().run(() -> TcpRepair.conformInPlace(original, handBack));
            original.close(); // only our duplicate; the owner's fd 3 stays open
            owner.resume();

            assertThat(owner.fdTarget(OWNER_FD)).as("owner's fd 3 names the same socket").isEqualTo(fdBefore);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (peerGot.size() < toPeer.length && System.nanoTime() < deadline) {
                peer.poll(LibC.POLLIN, 200);
                peerGot.write(drain(peer));
            }
            assertThat(peerGot.toByteArray()).as("everything the owner wrote, byte-exact").isEqualTo(toPeer);
            assertThat(owner.process().waitFor(20, TimeUnit.SECONDS)).as("owner finished").isTrue();
            assertThat(Files.readString(dir.resolve("tx.status")).trim()).as("writer's exit status").isEqualTo("0");
            assertThat(Files.readString(dir.resolve("rx.status")).trim()).as("reader's exit status").isEqualTo("0");
            assertThat(Files.readAllBytes(dir.resolve("received.bin"))).as("everything the peer sent, byte-exact")
                    .isEqualTo(toGuest.toByteArray());
            assertThat(peer.getInt(SockOpt.SO_ERROR)).as("no reset on the peer").isZero();
            peer.close();
        }
    }
}
