package org.tcpferry.sys;

import com.sun.jna.Native;

/**
 * pidfd_open(2) and pidfd_getfd(2): how one process reaches a socket that another one owns. The
 * duplicate shares the open file with the owner's descriptor, so flags set through it (O_NONBLOCK)
 * change the owner's socket too: use per-call flags such as MSG_DONTWAIT instead.
 */
public final class Pidfd {
    private Pidfd() {}

    /** A pidfd for {@code pid}; close it with {@link #close}. */
    public static int open(int pid) throws SyscallException {
        long fd = LibC.syscall(LibC.SYS_pidfd_open, pid, 0, 0);
        if (fd < 0) {
            throw SyscallException.of("pidfd_open(pid " + pid + ")", Native.getLastError());
        }
        return (int) fd;
    }

    /** A duplicate, in this process, of descriptor {@code targetFd} of the process behind {@code pidfd}. */
    public static int getfd(int pidfd, int targetFd, int pid) throws SyscallException {
        long fd = LibC.syscall(LibC.SYS_pidfd_getfd, pidfd, targetFd, 0);
        if (fd < 0) {
            throw SyscallException.of("pidfd_getfd(pid " + pid + ", fd " + targetFd + ")", Native.getLastError());
        }
        return (int) fd;
    }

    /** Duplicates {@code targetFd} of process {@code pid} into this process. */
    public static int duplicate(int pid, int targetFd) throws SyscallException {
        int pidfd = open(pid);
        try {
            return getfd(pidfd, targetFd, pid);
        } finally {
            Fds.close(pidfd, "pidfd of pid " + pid);
        }
    }
}
