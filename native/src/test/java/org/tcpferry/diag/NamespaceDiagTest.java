package org.tcpferry.diag;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.tcpferry.netns.NetNamespace;
import org.tcpferry.repair.TcpState;
import org.tcpferry.sys.NativeSocket;

/** SocketDiag reports the namespace of the thread that calls it, as its Javadoc promises. */
class NamespaceDiagTest {
    private String name;
    private ExecutorService inside;

    @BeforeEach
    void createNamespace() throws IOException {
        assumeTrue(Capabilities.probe().root(), "creating a network namespace needs root");
        name = "tfdiag-" + ProcessHandle.current().pid() + "-" + ThreadLocalRandom.current().nextInt(1 << 20);
        Command.run("ip", "netns", "add", name);
        Command.run("ip", "-n", name, "link", "set", "lo", "up");
        inside = NetNamespace.named(name).executor("diag-test-" + name);
    }

    @AfterEach
    void deleteNamespace() throws IOException {
        if (inside != null) {
            inside.shutdownNow();
        }
        if (name != null) {
            Command.run("ip", "netns", "del", name);
        }
    }

    @Test
    void listsTheSocketsOfTheNamespaceItIsCalledIn() throws Exception {
        NativeSocket listener = inside.submit(() -> LoopbackConnection.listener("127.0.0.1", 4)).get();
        try {
            long inode = LoopbackConnection.inodeOf(listener);

            List<TcpSocketInfo> there = NetNamespace.named(name).call(() -> SocketDiag.listTcp(TcpState.LISTEN));
            List<TcpSocketInfo> here = SocketDiag.listTcp(TcpState.LISTEN);

            assertThat(there).extracting(TcpSocketInfo::inode).containsExactly(inode);
            assertThat(here).extracting(TcpSocketInfo::inode).doesNotContain(inode);
        } finally {
            listener.close();
        }
    }
}
