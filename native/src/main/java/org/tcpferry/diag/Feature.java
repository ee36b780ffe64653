package org.tcpferry.diag;

/** Something tcpferry relies on that {@link Capabilities#probe()} checks, with why it is needed. */
public enum Feature {
    /** Informational only: root is not required when the capabilities below are present. */
    ROOT("effective uid 0; not required by itself, the capabilities below are what count", true),
    CAP_NET_ADMIN("TCP_REPAIR, SO_MARK, IP_TRANSPARENT and nft need CAP_NET_ADMIN", false),
    CAP_SYS_PTRACE("pidfd_getfd(2) on another user's process needs CAP_SYS_PTRACE", false),
    CAP_SYS_ADMIN("setns(2) into another network namespace needs CAP_SYS_ADMIN", false),
    TCP_REPAIR("dumping and restoring connections needs the TCP_REPAIR socket option", false),
    SOCK_DIAG("listing connections needs NETLINK_SOCK_DIAG with inet_diag for TCP", false),
    PIDFD("reaching another process's socket needs pidfd_open(2) and pidfd_getfd(2) (Linux 5.6+)", false),
    CGROUP2("freezing a socket's owner needs a mounted cgroup v2 hierarchy", false),
    NFT("steering and blocking flows needs nftables (the nft binary and libnftables.so.1)", false);

    /** What this feature is for, as said in a report. */
    public final String purpose;
    /** Whether its absence is worth knowing but not a problem (never listed as missing). */
    public final boolean informational;

    Feature(String purpose, boolean informational) {
        this.purpose = purpose;
        this.informational = informational;
    }
}
