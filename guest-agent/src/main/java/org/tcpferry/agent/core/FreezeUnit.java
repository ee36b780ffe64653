package org.tcpferry.agent.core;

/**
 * One thing the agent freezes: a cgroup v2 directory (frozen through {@code cgroup.freeze}) or a
 * single process (stopped with SIGSTOP, for owners in the root cgroup or in the agent's own).
 *
 * @param cgroup path relative to the cgroup2 mount, e.g. {@code /app.slice/web.service}; null for a process
 * @param pid the process for SIGSTOP; 0 for a cgroup
 * @param startTime the process's start time (field 22 of /proc/PID/stat), so that a restarted agent
 *     never continues a different process that reused the pid; 0 for a cgroup
 */
public record FreezeUnit(String cgroup, int pid, long startTime) {

    public static FreezeUnit cgroup(String path) {
        return new FreezeUnit(path, 0, 0);
    }

    public static FreezeUnit process(int pid, long startTime) {
        return new FreezeUnit(null, pid, startTime);
    }

    public boolean isCgroup() {
        return cgroup != null;
    }

    @Override
    public String toString() {
        return isCgroup() ? "cgroup:" + cgroup : "pid:" + pid;
    }
}
