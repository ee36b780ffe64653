package org.tcpferry.repair;

import org.tcpferry.sys.LibC;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.SockOpt;

/** Fails (never skips) a kernel test that cannot run: tcpferry's rule is that a skipped kernel test is a failure. */
final class RootRequirement {
    private RootRequirement() {}

    static void check() {
        try (NativeSocket probe = NativeSocket.tcp(LibC.AF_INET)) {
            probe.setInt(SockOpt.TCP_REPAIR, 1);
            probe.setInt(SockOpt.TCP_REPAIR, 0);
        } catch (Exception e) {
            throw new AssertionError("these tests need CAP_NET_ADMIN for TCP_REPAIR (run as root, or under"
                    + " `unshare -Urn`): " + e.getMessage(), e);
        }
    }
}
