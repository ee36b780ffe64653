package org.tcpferry.host.hold;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.Closeable;
import org.tcpferry.sys.Fds;
import org.tcpferry.sys.LibC;
import org.tcpferry.sys.SyscallException;

/**
 * A Linux eventfd: lets any thread wake the {@link CopyLoop} out of poll(2) at once, so that a
 * handoff or release submitted to the loop does not wait for a poll timeout. Reached through raw
 * syscalls because {@link LibC} maps no read/write.
 */
final class EventFd implements Closeable {
    private static final long SYS_READ = 0;
    private static final long SYS_WRITE = 1;
    private static final long SYS_EVENTFD2 = 290; // x86-64
    private static final int EFD_NONBLOCK = 0x800;
    private static final int EFD_CLOEXEC = 0x80000;

    private final int fd;
    private final Memory one = new Memory(8);
    private final Memory sink = new Memory(8);

    EventFd() throws SyscallException {
        long fd = LibC.syscall(SYS_EVENTFD2, 0, EFD_NONBLOCK | EFD_CLOEXEC, 0);
        if (fd < 0) {
            throw SyscallException.of("eventfd2(0, EFD_NONBLOCK|EFD_CLOEXEC)", Native.getLastError());
        }
        this.fd = (int) fd;
        one.setLong(0, 1);
    }

    int fd() {
        return fd;
    }

    /** Makes the eventfd readable; callable from any thread. */
    synchronized void signal() throws SyscallException {
        if (LibC.syscall(SYS_WRITE, fd, Pointer.nativeValue(one), 8) < 0) {
            throw SyscallException.of("write(eventfd " + fd + ")", Native.getLastError());
        }
    }

    /** Resets the counter after poll reported the eventfd readable; only the loop thread calls it. */
    void clear() throws SyscallException {
        if (LibC.syscall(SYS_READ, fd, Pointer.nativeValue(sink), 8) < 0) {
            int errno = Native.getLastError();
            if (errno != org.tcpferry.sys.Errno.EAGAIN) {
                throw SyscallException.of("read(eventfd " + fd + ")", errno);
            }
        }
    }

    @Override
    public void close() throws SyscallException {
        Fds.close(fd, "eventfd");
    }
}
