package org.tcpferry.diag;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.tcpferry.nft.Nftables;
import org.tcpferry.repair.TcpState;
import org.tcpferry.sys.Fds;
import org.tcpferry.sys.LibC;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.Pidfd;
import org.tcpferry.sys.SockOpt;
import org.tcpferry.sys.SyscallException;

/**
 * Probes what this process can do on this machine, so that a daemon can refuse to start with a
 * clear reason, and a test can skip what the machine cannot do. Each probe does the real thing
 * once (set TCP_REPAIR, run a sock_diag dump, call pidfd_getfd) rather than inferring it from
 * version numbers. The socket probes act in the calling thread's network namespace.
 *
 * <pre>{@code
 * CapabilityReport report = Capabilities.probe();
 * if (!report.missing().isEmpty()) { log.error("cannot run:\n{}", report); }
 * }</pre>
 */
public final class Capabilities {
    private static final Path PROC_SELF_STATUS = Path.of("/proc/self/status");
    private static final Path PROC_SELF_MOUNTINFO = Path.of("/proc/self/mountinfo");
    /** Searched after $PATH, which often lacks the sbin directories for non-root users. */
    private static final List<String> SBIN_DIRS = List.of("/usr/sbin", "/sbin", "/usr/local/sbin");

    private Capabilities() {}

    /** Runs every probe; takes well under a millisecond besides class loading. */
    public static CapabilityReport probe() throws IOException {
        List<Check> checks = new ArrayList<>();
        ProcStatus status = ProcStatus.parse(Files.readAllLines(PROC_SELF_STATUS));
        checks.add(new Check(Feature.ROOT, status.effectiveUid() == 0, "effective uid " + status.effectiveUid()));
        checks.add(capability(Feature.CAP_NET_ADMIN, status, ProcStatus.CAP_NET_ADMIN));
        checks.add(capability(Feature.CAP_SYS_PTRACE, status, ProcStatus.CAP_SYS_PTRACE));
        checks.add(capability(Feature.CAP_SYS_ADMIN, status, ProcStatus.CAP_SYS_ADMIN));
        checks.add(tcpRepair());
        checks.add(sockDiag());
        checks.add(pidfd());
        Optional<Path> cgroup2 = MountInfo.firstMountOf("cgroup2", Files.readAllLines(PROC_SELF_MOUNTINFO));
        checks.add(new Check(Feature.CGROUP2, cgroup2.isPresent(),
                cgroup2.map(path -> "mounted at " + path).orElse("no cgroup2 mount in /proc/self/mountinfo")));
        Optional<Path> nft = findExecutable("nft");
        Optional<String> libnftables = Nftables.loadError();
        checks.add(new Check(Feature.NFT, nft.isPresent() && libnftables.isEmpty(),
                nft.map(Path::toString).orElse("no executable nft in $PATH or " + SBIN_DIRS)
                        + libnftables.map(error -> "; " + error).orElse("; libnftables.so.1 loaded")));
        return new CapabilityReport(checks, cgroup2.orElse(null), nft.orElse(null));
    }

    private static Check capability(Feature feature, ProcStatus status, int bit) {
        boolean present = status.hasCapability(bit);
        return new Check(feature, present, (present ? "in" : "not in") + " CapEff "
                + Long.toHexString(status.effectiveCapabilities()) + " (bit " + bit + ")");
    }

    /**
     * Turns repair mode on and off on a fresh, unconnected socket: the kernel checks CAP_NET_ADMIN
     * (in the user namespace owning the netns) and the state (not LISTEN), and an unconnected
     * socket sends no window probe when repair is turned off.
     */
    private static Check tcpRepair() throws SyscallException {
        try (NativeSocket socket = NativeSocket.tcp(LibC.AF_INET)) {
            try {
                socket.setInt(SockOpt.TCP_REPAIR, LibC.TCP_REPAIR_ON);
                socket.setInt(SockOpt.TCP_REPAIR, LibC.TCP_REPAIR_OFF);
            } catch (SyscallException refused) {
                return new Check(Feature.TCP_REPAIR, false, refused.getMessage());
            }
        }
        return new Check(Feature.TCP_REPAIR, true, "set on and off on a fresh socket");
    }

    private static Check sockDiag() {
        try {
            int listeners = SocketDiag.listTcp(TcpState.LISTEN).size();
            return new Check(Feature.SOCK_DIAG, true, "dumped " + listeners + " listening sockets");
        } catch (IOException refused) {
            return new Check(Feature.SOCK_DIAG, false, refused.getMessage());
        }
    }

    /** pidfd_open on ourselves, then pidfd_getfd of that very pidfd: both syscalls, no other process. */
    private static Check pidfd() throws SyscallException {
        int pid = LibC.getpid();
        int pidfd;
        try {
            pidfd = Pidfd.open(pid);
        } catch (SyscallException refused) {
            return new Check(Feature.PIDFD, false, refused.getMessage());
        }
        try {
            int duplicate = Pidfd.getfd(pidfd, pidfd, pid);
            Fds.close(duplicate, "pidfd_getfd probe duplicate");
        } catch (SyscallException refused) {
            return new Check(Feature.PIDFD, false, refused.getMessage());
        } finally {
            Fds.close(pidfd, "pidfd probe");
        }
        return new Check(Feature.PIDFD, true, "pidfd_open and pidfd_getfd work");
    }

    /** The first executable {@code name} in $PATH, then in the sbin directories. */
    static Optional<Path> findExecutable(String name) {
        Set<String> dirs = new LinkedHashSet<>();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(":")) {
                if (!dir.isEmpty()) {
                    dirs.add(dir);
                }
            }
        }
        dirs.addAll(SBIN_DIRS);
        for (String dir : dirs) {
            Path candidate = Path.of(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }
}
