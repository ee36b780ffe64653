package org.tcpferry.diag;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tcpferry.repair.TcpState;
import org.tcpferry.sys.LibC;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.SyscallException;

/** SocketDiag and SocketOwners against real loopback connections in this process's namespace. */
class SocketDiagTest {
    private static final int PID = (int) ProcessHandle.current().pid();

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "::1"})
    void listsBothEndsOfAnEstablishedConnectionWithTheirOwners(String loopback) throws IOException {
        try (NativeSocket listener = LoopbackConnection.listener(loopback, 4);
                LoopbackConnection connection = LoopbackConnection.to(listener)) {
            long clientInode = LoopbackConnection.inodeOf(connection.client);
            long serverInode = LoopbackConnection.inodeOf(connection.server);

            Map<Long, TcpSocketInfo> listed = byInode(SocketDiag.listTcp(TcpState.ESTABLISHED));

            TcpSocketInfo client = listed.get(clientInode);
            assertThat(client).as("client end %s", connection.client).isNotNull();
            assertThat(client.state()).isEqualTo(TcpState.ESTABLISHED);
            assertThat(client.local()).isEqualTo(connection.client.localAddress());
            assertThat(client.remote()).isEqualTo(listener.localAddress());
            assertThat(client.uid()).isZero();
            TcpSocketInfo server = listed.get(serverInode);
            assertThat(server).as("server end").isNotNull();
            assertThat(server.local()).isEqualTo(client.remote());
            assertThat(server.remote()).isEqualTo(client.local());

            Map<Long, List<SocketOwner>> owners = SocketOwners.find(Set.of(clientInode, serverInode));
            assertThat(owners.get(clientInode)).containsExactly(
                    new SocketOwner(PID, connection.client.fd(), ownComm(), ownCgroup()));
            assertThat(owners.get(serverInode)).containsExactly(
                    new SocketOwner(PID, connection.server.fd(), ownComm(), ownCgroup()));
        }
    }

    @Test
    void cgroupIdIsTheInodeOfTheOwnersCgroupDirectory() throws IOException {
        Optional<Path> mount = Capabilities.probe().cgroup2Mount();
        assumeTrue(mount.isPresent(), "no cgroup2 mount");
        Path ownCgroupDir = Path.of(mount.get() + ownCgroup());
        long expected = ((Number) Files.getAttribute(ownCgroupDir, "unix:ino")).longValue();
        try (NativeSocket listener = LoopbackConnection.listener("127.0.0.1", 4);
                LoopbackConnection connection = LoopbackConnection.to(listener)) {
            long inode = LoopbackConnection.inodeOf(connection.client);
            TcpSocketInfo client = byInode(SocketDiag.listTcp(TcpState.ESTABLISHED)).get(inode);
            assertThat(client.cgroupId()).as("cgroup id of %s", ownCgroupDir).isEqualTo(expected);
        }
    }

    @Test
    void listsAListenerOnlyWhenListenIsAsked() throws IOException {
        try (NativeSocket listener = LoopbackConnection.listener("127.0.0.1", 4)) {
            long inode = LoopbackConnection.inodeOf(listener);

            assertThat(byInode(SocketDiag.listTcp(EnumSet.complementOf(EnumSet.of(TcpState.LISTEN)))))
                    .doesNotContainKey(inode);
            TcpSocketInfo listed = byInode(SocketDiag.listTcp(TcpState.LISTEN)).get(inode);
            assertThat(listed).isNotNull();
            assertThat(listed.state()).isEqualTo(TcpState.LISTEN);
            assertThat(listed.local()).isEqualTo(listener.localAddress());
            assertThat(listed.remote().getPort()).isZero();
        }
    }

    @Test
    void doesNotListAClosedSocket() throws IOException {
        long clientInode;
        long serverInode;
        String flow;
        try (NativeSocket listener = LoopbackConnection.listener("127.0.0.1", 4);
                LoopbackConnection connection = LoopbackConnection.to(listener)) {
            clientInode = LoopbackConnection.inodeOf(connection.client);
            serverInode = LoopbackConnection.inodeOf(connection.server);
            flow = byInode(SocketDiag.listTcp(TcpState.ESTABLISHED)).get(clientInode).flow();
        }

        List<TcpSocketInfo> all = SocketDiag.listTcp(EnumSet.allOf(TcpState.class));
        assertThat(all).extracting(TcpSocketInfo::inode).doesNotContain(clientInode, serverInode);
        // The closed ends linger as orphans and TIME_WAIT, which no file refers to any more.
        assertThat(all).filteredOn(s -> s.flow().equals(flow)).allSatisfy(s -> {
            assertThat(s.state()).isNotEqualTo(TcpState.ESTABLISHED);
            assertThat(s.inode()).isZero();
        });
        assertThat(SocketOwners.find(Set.of(clientInode, serverInode))).isEmpty();
    }

    @Test
    void listsOneFamilyWhenAsked() throws IOException {
        try (NativeSocket v4 = LoopbackConnection.listener("127.0.0.1", 4);
                NativeSocket v6 = LoopbackConnection.listener("::1", 4)) {
            Set<Long> inet6 = byInode(SocketDiag.listTcp(LibC.AF_INET6, EnumSet.of(TcpState.LISTEN)))
                    .keySet();
            assertThat(inet6).contains(LoopbackConnection.inodeOf(v6)).doesNotContain(LoopbackConnection.inodeOf(v4));
        }
    }

    @Test
    void listsAThousandConnectionsQuickly() throws IOException {
        int count = 1000;
        List<LoopbackConnection> connections = new ArrayList<>();
        try (NativeSocket listener = LoopbackConnection.listener("127.0.0.1", count)) {
            try {
                Set<Long> inodes = new HashSet<>();
                for (int i = 0; i < count; i++) {
                    LoopbackConnection connection = LoopbackConnection.to(listener);
                    connections.add(connection);
                    inodes.add(LoopbackConnection.inodeOf(connection.client));
                    inodes.add(LoopbackConnection.inodeOf(connection.server));
                }

                // Best of five: the first rounds include class loading and JIT, and the machine is shared.
                List<TcpSocketInfo> listed = List.of();
                Map<Long, List<SocketOwner>> owners = Map.of();
                long diagNanos = Long.MAX_VALUE;
                long ownersNanos = Long.MAX_VALUE;
                for (int round = 0; round < 5; round++) {
                    long start = System.nanoTime();
                    listed = SocketDiag.listTcp(TcpState.ESTABLISHED);
                    diagNanos = Math.min(diagNanos, System.nanoTime() - start);
                    start = System.nanoTime();
                    owners = SocketOwners.find(inodes);
                    ownersNanos = Math.min(ownersNanos, System.nanoTime() - start);
                }

                System.out.printf("sock_diag listed %d established sockets in %.2f ms; "
                        + "owners of %d inodes found in %.2f ms (best of 5, %d processes in /proc)%n",
                        listed.size(), diagNanos / 1e6, inodes.size(), ownersNanos / 1e6, processCount());
                assertThat(byInode(listed).keySet()).containsAll(inodes);
                assertThat(owners.keySet()).containsExactlyInAnyOrderElementsOf(inodes);
                assertThat(diagNanos).as("sock_diag dump time").isLessThan(500_000_000L);
            } finally {
                abortAll(connections);
            }
        }
    }

    @Test
    void aRefusedDumpBecomesASyscallExceptionNamingTheRequest() throws IOException {
        // No sock_diag handler serves family AF_UNSPEC: the kernel answers NLMSG_ERROR.
        try (NetlinkSocket netlink = NetlinkSocket.open(NetlinkSocket.NETLINK_SOCK_DIAG)) {
            byte[] request = InetDiagCodec.dumpRequest(0, InetDiagCodec.stateMask(EnumSet.of(TcpState.LISTEN)));
            assertThatThrownBy(() -> netlink.dump(request, "test dump(AF_UNSPEC)", (type, payload) -> { }))
                    .isInstanceOf(SyscallException.class)
                    .hasMessageStartingWith("test dump(AF_UNSPEC): ");
        }
    }

    private static Map<Long, TcpSocketInfo> byInode(List<TcpSocketInfo> sockets) {
        return sockets.stream().filter(s -> s.inode() != 0)
                .collect(Collectors.toMap(TcpSocketInfo::inode, s -> s, (a, b) -> a));
    }

    private static long processCount() throws IOException {
        try (var entries = Files.list(Path.of("/proc"))) {
            return entries.filter(p -> p.getFileName().toString().matches("\\d+")).count();
        }
    }

    private static String ownComm() throws IOException {
        return Files.readString(Path.of("/proc/self/comm")).strip();
    }

    private static String ownCgroup() throws IOException {
        return SocketOwners.cgroupV2Path(Files.readAllLines(Path.of("/proc/self/cgroup")));
    }

    private static void abortAll(List<LoopbackConnection> connections) throws SyscallException {
        SyscallException first = null;
        for (LoopbackConnection connection : connections) {
            try {
                connection.abort();
            } catch (SyscallException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
