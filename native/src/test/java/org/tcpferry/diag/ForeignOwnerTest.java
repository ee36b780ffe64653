package org.tcpferry.diag;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.tcpferry.repair.TcpState;
import org.tcpferry.sys.NativeSocket;

/**
 * A socket held by another process in a cgroup of its own: sock_diag reports that cgroup's id,
 * and SocketOwners finds the process, its descriptor, name and cgroup path.
 */
class ForeignOwnerTest {
    private static final String PREFIX = "tfdiag-";
    private static final String PYTHON = "/usr/bin/python3";

    @Test
    void findsTheOwnerProcessAndCgroupOfAnotherProcesssSocket() throws Exception {
        CapabilityReport capabilities = Capabilities.probe();
        assumeTrue(capabilities.root() && capabilities.cgroup2Mount().isPresent(), "needs root and cgroup v2");
        assumeTrue(Files.isExecutable(Path.of(PYTHON)), "the child process is " + PYTHON);
        Path cgroup = capabilities.cgroup2Mount().get()
                .resolve(PREFIX + ProcessHandle.current().pid() + "-" + ThreadLocalRandom.current().nextInt(1 << 20));
        Files.createDirectory(cgroup);
        Process child = null;
        try (NativeSocket listener = LoopbackConnection.listener("127.0.0.1", 4)) {
            int port = listener.localAddress().getPort();
            // The child joins the cgroup first, so the socket it then creates is charged to that cgroup.
            String python = "import socket, sys\n"
                    + "s = socket.socket()\n"
                    + "s.bind(('127.64.0.' + str(1 + " + ThreadLocalRandom.current().nextInt(254) + "), 0))\n"
                    + "s.connect(('127.0.0.1', " + port + "))\n"
                    + "print(s.fileno(), s.getsockname()[1], flush=True)\n"
                    + "sys.stdin.read()\n";
            child = new ProcessBuilder("/bin/sh", "-c",
                    "echo $$ > " + cgroup.resolve("cgroup.procs") + " && exec " + PYTHON + " -c \"$0\"", python)
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            BufferedReader childOut = new BufferedReader(
                    new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            String firstLine = childOut.readLine();
            assertThat(firstLine).as("the child's descriptor and port").isNotNull().matches("\\d+ \\d+");
            int childFd = Integer.parseInt(firstLine.split(" ")[0]);
            int childPort = Integer.parseInt(firstLine.split(" ")[1]);

            NativeSocket accepted = listener.accept(); // our end; the connection must be complete before the dump
            try {
                InetSocketAddress server = listener.localAddress();
                TcpSocketInfo childEnd = SocketDiag.listTcp(TcpState.ESTABLISHED).stream()
                        .filter(s -> s.local().getPort() == childPort && s.remote().equals(server))
                        .findFirst().orElseThrow();
                long cgroupIno = ((Number) Files.getAttribute(cgroup, "unix:ino")).longValue();
                assertThat(childEnd.cgroupId()).isEqualTo(cgroupIno);

                Map<Long, List<SocketOwner>> owners = SocketOwners.find(Set.of(childEnd.inode()));
                String relativeCgroup = "/" + cgroup.getFileName();
                assertThat(owners.get(childEnd.inode())).containsExactly(
                        new SocketOwner((int) child.pid(), childFd, "python3", relativeCgroup));
            } finally {
                accepted.close();
            }
        } finally {
            if (child != null) {
                child.destroy();
                child.waitFor(10, TimeUnit.SECONDS);
            }
            Files.delete(cgroup); // fails loudly if the child somehow still lives in it
        }
    }
}
