package org.tcpferry.repair;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.tcpferry.repair.Loopback.*;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.tcpferry.sys.LibC;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.SockAddr;
import org.tcpferry.sys.SockOpt;
import org.tcpferry.sys.SyscallException;

/**
 * The repair engine on real loopback sockets of this process's network namespace. Needs
 * CAP_NET_ADMIN (root): without it these tests fail, they do not skip.
 */
class TcpRepairLoopbackTest {
    @BeforeAll
    static void requireNetAdmin() {
        RootRequirement.check();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"127.0.0.1", "::1"})
    void dumpRestoreAndConformCarryEveryByteBothWays(String host) throws Exception {
        NativeSocket[] pair = pair(host);
        NativeSocket original = pair[0];
        NativeSocket peer = pair[1];
        int originalFd = original.fd();
        original.setInt(SockOpt.TCP_NODELAY, 1);
        original.setInt(SockOpt.TCP_USER_TIMEOUT, 7000);

        byte[] unreadByOriginal = randomBytes(100_000, 1);
        byte[] queuedByOriginal = randomBytes(50_000, 2);
        sendAll(peer, unreadByOriginal);
        sendAll(original, queuedByOriginal);
        Thread.sleep(50);

        InetSocketAddress localBefore = original.localAddress();
        ConnectionState state = TcpRepair.dump(original);
        TcpRepair.detach(original);
        assertThat(state.local()).isEqualTo(localBefore);
        assertThat(state.received()).isEqualTo(unreadByOriginal);
        assertThat(state.unacked().length + state.unsent().length).isLessThanOrEqualTo(queuedByOriginal.length);
        assertThat(state.options().noDelay()).isTrue();
        assertThat(state.options().userTimeoutMillis()).isEqualTo(7000);

        // The copy takes over: it holds what the original had not read, and the peer goes on.
        NativeSocket copy = TcpRepair.restore(state, RestoreOptions.plain());
        byte[] sentDuringHold = randomBytes(30_000, 3);
        sendAll(peer, sentDuringHold);
        assertThat(readExactly(peer, queuedByOriginal.length, 2000)).isEqualTo(queuedByOriginal);
        byte[] copyRead = readExactly(copy, unreadByOriginal.length + sentDuringHold.length, 2000);
        assertThat(copyRead).isEqualTo(concat(unreadByOriginal, sentDuringHold));
        TcpInfo copyInfo = TcpInfo.of(copy);
        assertThat(copyInfo.state()).isEqualTo(TcpState.ESTABLISHED);

        // Hand back: the copy's final state (with what it read put back) conforms the original.
        byte[] sentAfterHold = randomBytes(20_000, 4);
        sendAll(peer, sentAfterHold);
        Thread.sleep(50);
        // As the host does: the copy is dumped with the flow it was restored for.
        ConnectionState fin = TcpRepair.dump(copy, state.local(), state.remote());
        assertThat(fin.local()).isEqualTo(copy.localAddress());
        assertThat(fin.remote()).isEqualTo(copy.remoteAddress());
        TcpRepair.closeSilently(copy);
        ConnectionState handBack = fin.withReceived(concat(copyRead, fin.received()));
        TcpRepair.conformInPlace(original, handBack);

        assertThat(original.fd()).isEqualTo(originalFd);
        assertThat(readExactly(original, handBack.received().length, 2000))
                .isEqualTo(concat(unreadByOriginal, sentDuringHold, sentAfterHold));
        byte[] after = randomBytes(10_000, 5);
        sendAll(original, after);
        assertThat(readExactly(peer, after.length, 2000)).isEqualTo(after);
        assertThat(original.getInt(SockOpt.SO_ERROR)).isZero();
        assertThat(peer.getInt(SockOpt.SO_ERROR)).isZero();
        assertThat(original.getInt(SockOpt.TCP_USER_TIMEOUT)).isEqualTo(7000);
        original.close();
        peer.close();
    }

    @Test
    void optionsSurviveRestore() throws Exception {
        NativeSocket[] pair = pair("127.0.0.1");
        TcpInfo before = TcpInfo.of(pair[0]);
        ConnectionState state = TcpRepair.dump(pair[0]);
        TcpRepair.detach(pair[0]);
        try (NativeSocket copy = TcpRepair.restore(state, RestoreOptions.plain())) {
            TcpInfo after = TcpInfo.of(copy);
            assertThat(after.options()).isEqualTo(before.options());
            assertThat(after.sndWscale()).isEqualTo(before.sndWscale());
            assertThat(after.rcvWscale()).isEqualTo(before.rcvWscale());
            assertThat(after.timestamps()).isTrue();
            assertThat(after.sack()).isTrue();
            assertThat(after.windowScaling()).isTrue();
            // Loopback's MSS clamp is above what TCP_MAXSEG accepts (32767), so the effective MSS
            // is compared on a 1500-byte veth in the namespace tests; the clamp itself is carried.
            assertThat(TcpRepair.dump(copy).mssClamp()).isEqualTo(state.mssClamp());
        }
        pair[0].close();
        pair[1].close();
    }

    @Test
    void peerFinDuringTheHoldBecomesEofAfterAllData() throws Exception {
        NativeSocket[] pair = pair("127.0.0.1");
        NativeSocket original = pair[0];
        NativeSocket peer = pair[1];
        ConnectionState state = TcpRepair.dump(original);
        TcpRepair.detach(original);
        NativeSocket copy = TcpRepair.restore(state, RestoreOptions.plain());
        byte[] last = randomBytes(5000, 9);
        sendAll(peer, last);
        peer.shutdown(LibC.SHUT_WR);
        Thread.sleep(100);
        assertThat(TcpInfo.of(copy).state()).isEqualTo(TcpState.CLOSE_WAIT);

        ConnectionState fin = TcpRepair.dump(copy);
        TcpRepair.closeSilently(copy);
        assertThat(fin.state()).isEqualTo(TcpState.CLOSE_WAIT);
        TcpRepair.conformInPlace(original, fin);
        assertThat(readExactly(original, last.length, 2000)).isEqualTo(last);
        assertEof(original, 2000);
        assertThat(TcpInfo.of(original).state()).isEqualTo(TcpState.CLOSE_WAIT);
        // The original can still answer and close; the peer gets the data and the FIN.
        sendAll(original, "bye".getBytes());
        original.shutdown(LibC.SHUT_WR);
        assertThat(readExactly(peer, 3, 2000)).isEqualTo("bye".getBytes());
        assertEof(peer, 2000);
        original.close();
        peer.close();
    }

    @Test
    void listenSocketIsRefusedAndUnchanged() throws Exception {
        try (NativeSocket listener = NativeSocket.tcp(LibC.AF_INET)) {
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            listener.listen(4);
            assertThatThrownBy(() -> TcpRepair.dump(listener))
                    .isInstanceOf(UnsupportedStateException.class)
                    .hasMessageContaining("LISTEN");
            assertThat(TcpInfo.of(listener).state()).isEqualTo(TcpState.LISTEN);
            // Still accepting: nothing changed.
            try (NativeSocket client = NativeSocket.tcp(LibC.AF_INET)) {
                client.connect(listener.localAddress());
                listener.accept().close();
            }
        }
    }

    @Test
    void refusedSocketKeepsItsAddressReuse() throws Exception {
        // Entering and leaving repair mode clears SO_REUSEADDR: the state is checked before.
        try (NativeSocket fresh = NativeSocket.tcp(LibC.AF_INET)) {
            fresh.setInt(SockOpt.SO_REUSEADDR, 1);
            assertThatThrownBy(() -> TcpRepair.dump(fresh, new InetSocketAddress(InetAddress.getLoopbackAddress(), 1),
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), 2)))
                    .isInstanceOf(UnsupportedStateException.class);
            assertThat(fresh.getInt(SockOpt.SO_REUSEADDR)).isEqualTo(1);
            assertThat(fresh.getInt(SockOpt.TCP_REPAIR)).isZero();
        }
    }

    @Test
    void detachAfterAResumeStillDisconnectsSilently() throws Exception {
        // The engine skips turning repair mode on only while this object knows it is on: after a
        // resume it is off, and detach must turn it on again or its disconnect would send RST.
        NativeSocket[] pair = pair("127.0.0.1");
        ConnectionState state = TcpRepair.dump(pair[0]);
        TcpRepair.resume(pair[0]);
        assertThat(pair[0].knownInRepairMode()).isFalse();
        TcpRepair.detach(pair[0]);
        assertThat(pair[0].getInt(SockOpt.TCP_REPAIR)).isEqualTo(1);
        Thread.sleep(50);
        assertThat(pair[1].getInt(SockOpt.SO_ERROR)).isZero();
        assertThat(TcpInfo.of(pair[1]).state()).isEqualTo(TcpState.ESTABLISHED);
        TcpRepair.conformInPlace(pair[0], state);
        sendAll(pair[1], "after".getBytes());
        assertThat(readExactly(pair[0], 5, 2000)).isEqualTo("after".getBytes());
        pair[0].close();
        pair[1].close();
    }

    @Test
    void anApplicationsAddressReuseSurvivesDumpAndConformAndResume() throws Exception {
        // Repair mode clears SO_REUSEADDR when it ends; the agent works on an adopted duplicate of
        // the application's socket, which must keep the option (a server binding its port again
        // would otherwise get EADDRINUSE while the carried connection lives).
        NativeSocket[] pair = pair("127.0.0.1");
        pair[0].setInt(SockOpt.SO_REUSEADDR, 1);
        NativeSocket agentsCopy = NativeSocket.adopt(LibC.fcntl(pair[0].fd(), 1030 /* F_DUPFD_CLOEXEC */, 0), "adopted",
                LibC.AF_INET);
        ConnectionState state = TcpRepair.dump(agentsCopy);
        TcpRepair.detach(agentsCopy);
        TcpRepair.conformInPlace(agentsCopy, state);
        assertThat(pair[0].getInt(SockOpt.SO_REUSEADDR)).as("after dump, detach, conform").isEqualTo(1);
        TcpRepair.dump(agentsCopy);
        TcpRepair.resume(agentsCopy);
        assertThat(pair[0].getInt(SockOpt.SO_REUSEADDR)).as("after dump, resume").isEqualTo(1);
        sendAll(pair[1], "still".getBytes());
        assertThat(readExactly(pair[0], 5, 2000)).isEqualTo("still".getBytes());
        agentsCopy.close();
        pair[0].close();
        pair[1].close();
    }

    @Test
    void adoptedDescriptorIsClosedSilently() throws Exception {
        // A second object on the same descriptor does not know the first one's repair mode: it
        // turns it on itself, so closing through it sends neither FIN nor RST.
        NativeSocket[] pair = pair("127.0.0.1");
        TcpRepair.dump(pair[0]);
        TcpRepair.resume(pair[0]);
        NativeSocket adopted = NativeSocket.adopt(pair[0].fd(), "adopted", LibC.AF_INET);
        assertThat(adopted.knownInRepairMode()).isFalse();
        TcpRepair.closeSilently(adopted);
        Thread.sleep(50);
        assertThat(pair[1].getInt(SockOpt.SO_ERROR)).isZero();
        assertThat(TcpInfo.of(pair[1]).state()).isEqualTo(TcpState.ESTABLISHED);
        pair[1].close();
    }

    @Test
    void unknownDescriptorIsAClearError() {
        NativeSocket bogus = NativeSocket.adopt(987_654, "test flow");
        assertThatThrownBy(() -> TcpRepair.dump(bogus))
                .isInstanceOf(SyscallException.BadDescriptorException.class)
                .hasMessageContaining("fd 987654")
                .hasMessageContaining("EBADF");
    }

    @Test
    void dualStackSocketCarryingAnIpv4FlowIsConformedInPlace() throws Exception {
        // A server listening on :: accepts IPv4 clients on AF_INET6 sockets (IPv4-mapped).
        try (NativeSocket listener = NativeSocket.tcp(LibC.AF_INET6)) {
            listener.setInt(SockOpt.IPV6_V6ONLY, 0);
            listener.bind(new InetSocketAddress(InetAddress.getByName("::"), 0));
            listener.listen(4);
            NativeSocket client = NativeSocket.tcp(LibC.AF_INET);
            client.connect(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), listener.localAddress().getPort()));
            NativeSocket accepted = NativeSocket.adopt(listener.accept().fd(), null);
            assertThat(accepted.family()).isEqualTo(LibC.AF_INET6);

            byte[] unread = randomBytes(3000, 31);
            sendAll(client, unread);
            Thread.sleep(50);
            ConnectionState state = TcpRepair.dump(accepted);
            assertThat(state.local().getAddress()).isInstanceOf(java.net.Inet4Address.class);
            TcpRepair.detach(accepted);
            TcpRepair.conformInPlace(accepted, state);

            assertThat(readExactly(accepted, unread.length, 2000)).isEqualTo(unread);
            sendAll(accepted, "pong".getBytes());
            assertThat(readExactly(client, 4, 2000)).isEqualTo("pong".getBytes());
            accepted.close();
            client.close();
        }
    }

    @Test
    void unconnectedSocketIsRefusedAndStillUsable() throws Exception {
        try (NativeSocket fresh = NativeSocket.tcp(LibC.AF_INET);
                NativeSocket listener = NativeSocket.tcp(LibC.AF_INET)) {
            assertThatThrownBy(() -> TcpRepair.dump(fresh))
                    .isInstanceOf(UnsupportedStateException.class)
                    .hasMessageContaining("CLOSE")
                    .hasMessageContaining("only ESTABLISHED");
            // Not left in repair mode: it still connects with a real handshake.
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            listener.listen(1);
            fresh.connect(listener.localAddress());
            assertThat(TcpInfo.of(fresh).state()).isEqualTo(TcpState.ESTABLISHED);
            listener.accept().close();
        }
    }

    @Test
    void windowUpdatedBeyondAClosedReceiveWindowIsStillRestored() throws Exception {
        // A socket whose receive window was closed can have snd_wl1 after rcv_nxt + rcv_wnd (a peer
        // segment whose data was refused still updated the send window); the kernel refuses such a
        // TCP_REPAIR_WINDOW, so the engine must bring snd_wl1 back.
        NativeSocket[] pair = pair("127.0.0.1");
        ConnectionState state = TcpRepair.dump(pair[0]);
        TcpRepair.detach(pair[0]);
        RepairWindow w = state.window();
        RepairWindow ahead = new RepairWindow(state.rcvNxt() + w.rcvWnd() + 5000, w.sndWnd(), w.maxWindow(), 0, w.rcvWup());
        ConnectionState closedWindow = new ConnectionState(state.local(), state.remote(), state.state(), state.writeSeq(),
                state.unacked(), state.unsent(), state.rcvNxt(), state.received(), state.mssClamp(), state.windowScaling(),
                state.sndWscale(), state.rcvWscale(), state.sackPermitted(), state.timestamps(), state.tsVal(), ahead,
                state.options());
        TcpRepair.conformInPlace(pair[0], closedWindow);
        sendAll(pair[1], "after".getBytes());
        assertThat(readExactly(pair[0], 5, 2000)).isEqualTo("after".getBytes());
        sendAll(pair[0], "back".getBytes());
        assertThat(readExactly(pair[1], 4, 2000)).isEqualTo("back".getBytes());
        pair[0].close();
        pair[1].close();
    }
}
