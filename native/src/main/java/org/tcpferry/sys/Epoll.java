package org.tcpferry.sys;

import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.io.Closeable;

/**
 * An epoll(7) instance: a persistent interest set of descriptors, each registered once and
 * reported when ready, so that waiting costs what is ready and not what is registered (poll(2)
 * copies and scans every descriptor on every call). Level-triggered; each descriptor carries
 * its own number as the event's data. Not thread-safe: one thread registers and waits.
 *
 * <p>A descriptor must be removed before it is closed whenever another process may hold a
 * duplicate of it (the fd keeper does): epoll forgets a registration only when the last
 * reference to the open file goes, so a closed but duplicated descriptor would keep reporting.
 */
public final class Epoll implements Closeable {
    /** struct epoll_event is packed on x86-64 (u32 events, u64 data), naturally aligned elsewhere. */
    private static final int EVENT_SIZE = Platform.isIntel() && Platform.is64Bit() ? 12 : 16;
    private static final int DATA_OFFSET = EVENT_SIZE == 12 ? 4 : 8;

    private final int fd;
    private final String name;
    private final byte[] ctlEvent = new byte[EVENT_SIZE];
    private final byte[] readyEvents;
    private final int maxEvents;

    /**
     * @param name names the instance in errors (e.g. the copy loop it serves)
     * @param maxEvents how many ready descriptors one {@link #await} reports at most
     */
    public Epoll(String name, int maxEvents) throws SyscallException {
        int created = LibC.epoll_create1(LibC.EPOLL_CLOEXEC);
        if (created < 0) {
            throw SyscallException.of("epoll_create1(EPOLL_CLOEXEC) for " + name, Native.getLastError());
        }
        this.fd = created;
        this.name = name;
        this.maxEvents = maxEvents;
        this.readyEvents = new byte[EVENT_SIZE * maxEvents];
    }

    /** Registers {@code target} for {@code events} (EPOLLIN or 0; errors and hang-ups always report). */
    public void add(int target, int events, String flow) throws SyscallException {
        control(LibC.EPOLL_CTL_ADD, "EPOLL_CTL_ADD", target, events, flow);
    }

    /** Changes what {@code target} is registered for. */
    public void modify(int target, int events, String flow) throws SyscallException {
        control(LibC.EPOLL_CTL_MOD, "EPOLL_CTL_MOD", target, events, flow);
    }

    /** Removes {@code target}; it must still be open. */
    public void remove(int target, String flow) throws SyscallException {
        control(LibC.EPOLL_CTL_DEL, "EPOLL_CTL_DEL", target, 0, flow);
    }

    private void control(int op, String opName, int target, int events, String flow) throws SyscallException {
        putInt(ctlEvent, 0, events);
        putInt(ctlEvent, DATA_OFFSET, target);
        putInt(ctlEvent, DATA_OFFSET + 4, 0);
        if (LibC.epoll_ctl(fd, op, target, ctlEvent) < 0) {
            throw SyscallException.of("epoll_ctl(" + name + ", " + opName + ", fd " + target + ", events 0x"
                    + Integer.toHexString(events) + ") on " + flow, Native.getLastError());
        }
    }

    /**
     * Waits up to {@code timeoutMillis} for registered descriptors to be ready.
     * @return how many are ready (0 on timeout or when a signal interrupted the wait); read them
     *     with {@link #readyFd} and {@link #readyEvents}
     */
    public int await(int timeoutMillis) throws SyscallException {
        int n = LibC.epoll_wait(fd, readyEvents, maxEvents, timeoutMillis);
        if (n < 0) {
            int errno = Native.getLastError();
            if (errno == Errno.EINTR) {
                return 0;
            }
            throw SyscallException.of("epoll_wait(" + name + ", " + maxEvents + " events)", errno);
        }
        return n;
    }

    /** The descriptor of the {@code index}th ready event of the last {@link #await}. */
    public int readyFd(int index) {
        return getInt(readyEvents, index * EVENT_SIZE + DATA_OFFSET);
    }

    /** The event bits (EPOLLIN, EPOLLERR, EPOLLHUP, ...) of the {@code index}th ready event. */
    public int readyEvents(int index) {
        return getInt(readyEvents, index * EVENT_SIZE);
    }

    public int fd() {
        return fd;
    }

    @Override
    public void close() throws SyscallException {
        Fds.close(fd, "epoll " + name);
    }

    private static void putInt(byte[] buffer, int at, int value) {
        buffer[at] = (byte) value;
        buffer[at + 1] = (byte) (value >>> 8);
        buffer[at + 2] = (byte) (value >>> 16);
        buffer[at + 3] = (byte) (value >>> 24);
    }

    private static int getInt(byte[] buffer, int at) {
        return (buffer[at] & 0xff) | (buffer[at + 1] & 0xff) << 8 | (buffer[at + 2] & 0xff) << 16
                | (buffer[at + 3] & 0xff) << 24;
    }
}
