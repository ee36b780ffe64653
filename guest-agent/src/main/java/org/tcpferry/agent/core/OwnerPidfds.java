package org.tcpferry.agent.core;

import java.util.HashMap;
import java.util.Map;
import org.tcpferry.sys.Fds;
import org.tcpferry.sys.Pidfd;
import org.tcpferry.sys.SyscallException;

/**
 * The pidfds of the owners reached during one handoff, one per process: a process holding 10,000
 * sockets is opened once, not once per socket (pidfd_open and close were two of the ~32 system
 * calls of each connection's dump). Close it when the handoff is over.
 */
final class OwnerPidfds implements AutoCloseable {
    private final Map<Integer, Integer> pidfds = new HashMap<>();

    /** A duplicate, in this process, of descriptor {@code fd} of process {@code pid}. */
    int duplicate(int pid, int fd) throws SyscallException {
        Integer pidfd = pidfds.get(pid);
        if (pidfd == null) {
            pidfd = Pidfd.open(pid);
            pidfds.put(pid, pidfd);
        }
        return Pidfd.getfd(pidfd, fd, pid);
    }

    @Override
    public void close() throws SyscallException {
        SyscallException first = null;
        for (Map.Entry<Integer, Integer> e : pidfds.entrySet()) {
            try {
                Fds.close(e.getValue(), "pidfd of pid " + e.getKey());
            } catch (SyscallException failure) {
                if (first == null) {
                    first = failure;
                } else {
                    first.addSuppressed(failure);
                }
            }
        }
        pidfds.clear();
        if (first != null) {
            throw first;
        }
    }
}
