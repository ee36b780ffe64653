package org.tcpferry.tests.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.tcpferry.rig.KernelTest;

/**
 * The control socket serves root only: its mode 0600 keeps other users out, and if an operator
 * opens the mode up, the daemon's SO_PEERCRED check still closes their connections.
 */
@KernelTest
class ControlSocketAccessTest {
    /** Connects as uid/gid 65534 (nobody) and prints denied, closed or served. */
    private static final String CLIENT = """
            import socket, sys
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(sys.argv[1])
            except PermissionError:
                print("denied"); sys.exit()
            s.settimeout(5)
            try:
                print("closed" if s.recv(1) == b"" else "served")
            except socket.timeout:
                print("served")
            """;

    @Test
    void onlyRootReachesTheControlSocketEvenWhenItsModeIsOpened() throws Exception {
        try (HostTestBed bed = HostTestBed.create("control access")) {
            Path socket = Path.of(bed.config().controlSocket());
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-------");
            Files.setPosixFilePermissions(socket.getParent(), PosixFilePermissions.fromString("rwx--x--x"));
            assertThat(asNobody(socket)).as("nobody, socket 0600").isEqualTo("denied");

            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
            assertThat(asNobody(socket)).as("nobody, socket opened to all").isEqualTo("closed");
        }
    }

    private static String asNobody(Path socket) throws Exception {
        Process p = new ProcessBuilder("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                "/usr/bin/python3", "-c", CLIENT, socket.toString()).redirectErrorStream(true).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("client finished").isTrue();
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    }
}
