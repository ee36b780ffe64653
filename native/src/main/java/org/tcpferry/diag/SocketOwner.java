package org.tcpferry.diag;

/**
 * A process that holds a socket open, and under which descriptor.
 *
 * @param pid    the process (thread group) id
 * @param fd     the descriptor number in that process
 * @param comm   the process name from {@code /proc/PID/comm}
 * @param cgroup the process's cgroup v2 path, the {@code 0::} line of {@code /proc/PID/cgroup}
 *               (e.g. {@code /system.slice/app.service}), relative to the cgroup2 mount; "" if the
 *               process has none (no cgroup2 hierarchy mounted)
 */
public record SocketOwner(int pid, int fd, String comm, String cgroup) {}
