package org.tcpferry.sys;

import com.sun.jna.Native;

/** Plain file descriptors that are not sockets: namespace files, pidfds. */
public final class Fds {
    private Fds() {}

    public static int openReadOnly(String path) throws SyscallException {
        int fd = LibC.open(path, LibC.O_RDONLY | LibC.O_CLOEXEC);
        if (fd < 0) {
            throw SyscallException.of("open(" + path + ", O_RDONLY)", Native.getLastError());
        }
        return fd;
    }

    /** close(2); {@code what} names the descriptor in the error. */
    public static void close(int fd, String what) throws SyscallException {
        if (LibC.close(fd) < 0) {
            throw SyscallException.of("close(fd " + fd + ", " + what + ")", Native.getLastError());
        }
    }
}
