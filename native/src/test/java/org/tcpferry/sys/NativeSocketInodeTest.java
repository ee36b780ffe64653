package org.tcpferry.sys;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The inode a socket reports is the one its /proc/self/fd link names, as sock_diag reports it. */
class NativeSocketInodeTest {

    @Test
    void inodeIsTheOneTheDescriptorLinkNames() throws Exception {
        try (NativeSocket a = NativeSocket.tcp(LibC.AF_INET); NativeSocket b = NativeSocket.tcp(LibC.AF_INET6)) {
            for (NativeSocket s : new NativeSocket[] {a, b}) {
                String link = Files.readSymbolicLink(Path.of("/proc/self/fd/" + s.fd())).toString();
                assertThat(link).isEqualTo("socket:[" + s.inode() + "]");
            }
            assertThat(a.inode()).isNotEqualTo(b.inode());
        }
    }
}
