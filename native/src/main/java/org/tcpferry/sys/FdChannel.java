package org.tcpferry.sys;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.Closeable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A unix {@code SOCK_SEQPACKET} socket whose messages may carry file descriptors (SCM_RIGHTS):
 * one message is one {@link #send}, never split or merged. Java's own unix channels cannot pass
 * descriptors, which is why this wraps sendmsg(2) and recvmsg(2) itself.
 *
 * <p>Layouts are those of x86-64 and aarch64 Linux: {@code struct msghdr} is 56 bytes, {@code
 * struct iovec} 16, {@code struct cmsghdr} 16 before its data. Descriptors received are
 * close-on-exec.
 */
public final class FdChannel implements Closeable {
    /** The most descriptors one message carries. */
    public static final int MAX_FDS = 8;
    private static final int SUN_PATH_MAX = 108;
    private static final int CMSG_HEADER = 16;
    private static final int CONTROL_SPACE = CMSG_HEADER + ((4 * MAX_FDS + 7) & ~7);

    private final int fd;
    private final String name;
    private boolean closed;

    private FdChannel(int fd, String name) {
        this.fd = fd;
        this.name = name;
    }

    /** A listening socket bound at {@code path} (an old socket file there is replaced). */
    public static FdChannel listen(Path path) throws java.io.IOException {
        java.nio.file.Files.deleteIfExists(path);
        FdChannel channel = open(path.toString());
        byte[] address = address(path);
        if (LibC.bind(channel.fd, address, address.length) < 0) {
            int errno = Native.getLastError();
            channel.closeQuietly();
            throw SyscallException.of("bind(" + path + ")", errno);
        }
        if (LibC.listen(channel.fd, 8) < 0) {
            int errno = Native.getLastError();
            channel.closeQuietly();
            throw SyscallException.of("listen(" + path + ")", errno);
        }
        return channel;
    }

    /** Connects to a listening channel at {@code path}. */
    public static FdChannel connect(Path path) throws SyscallException {
        FdChannel channel = open(path.toString());
        byte[] address = address(path);
        if (LibC.connect(channel.fd, address, address.length) < 0) {
            int errno = Native.getLastError();
            channel.closeQuietly();
            throw SyscallException.of("connect(" + path + ")", errno);
        }
        return channel;
    }

    private static FdChannel open(String name) throws SyscallException {
        int fd = LibC.socket(LibC.AF_UNIX, LibC.SOCK_SEQPACKET | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw SyscallException.of("socket(AF_UNIX, SOCK_SEQPACKET) for " + name, Native.getLastError());
        }
        return new FdChannel(fd, name);
    }

    /** Waits for the next client. */
    public FdChannel accept() throws SyscallException {
        int client = LibC.accept4(fd, null, null, LibC.SOCK_CLOEXEC);
        if (client < 0) {
            throw SyscallException.of("accept4(" + name + ")", Native.getLastError());
        }
        return new FdChannel(client, name + " client");
    }

    /** One message: {@code payload} and a duplicate of each of {@code fds} for the receiver. */
    public void send(byte[] payload, int... fds) throws SyscallException {
        if (fds.length > MAX_FDS) {
            throw new IllegalArgumentException(fds.length + " descriptors, at most " + MAX_FDS + " per message");
        }
        Memory data = new Memory(Math.max(1, payload.length));
        data.write(0, payload, 0, payload.length);
        Memory control = fds.length == 0 ? null : new Memory(CMSG_HEADER + ((4L * fds.length + 7) & ~7));
        if (control != null) {
            control.clear();
            control.setLong(0, CMSG_HEADER + 4L * fds.length); // cmsg_len = CMSG_LEN(4 * n)
            control.setInt(8, LibC.SOL_SOCKET);
            control.setInt(12, LibC.SCM_RIGHTS);
            control.write(CMSG_HEADER, fds, 0, fds.length);
        }
        Memory iov = iovec(data, payload.length);
        Memory header = msghdr(iov, control, control == null ? 0 : control.size());
        long n = LibC.sendmsg(fd, header, LibC.MSG_NOSIGNAL);
        if (n < 0) {
            throw SyscallException.of("sendmsg(" + name + ", " + payload.length + " bytes, " + fds.length + " fds)",
                    Native.getLastError());
        }
        if (n != payload.length) {
            throw new IllegalStateException("sendmsg(" + name + ") sent " + n + " of " + payload.length + " bytes");
        }
    }

    /** A message received: its bytes and the descriptors it carried (now this process's). */
    public record Message(byte[] payload, int[] fds) {
    }

    /**
     * The next message, waiting for it.
     * @return null when the other side closed the connection
     */
    public Message receive(int maxBytes) throws SyscallException {
        Memory data = new Memory(maxBytes);
        Memory control = new Memory(CONTROL_SPACE);
        control.clear();
        Memory header = msghdr(iovec(data, maxBytes), control, CONTROL_SPACE);
        long n = LibC.recvmsg(fd, header, LibC.MSG_CMSG_CLOEXEC);
        if (n < 0) {
            throw SyscallException.of("recvmsg(" + name + ")", Native.getLastError());
        }
        int[] fds = descriptors(control, header.getLong(40));
        if (n == 0 && fds.length == 0) {
            return null;
        }
        int flags = header.getInt(48);
        if ((flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
            for (int received : fds) {
                LibC.close(received);
            }
            throw new IllegalStateException("message on " + name + " did not fit in " + maxBytes + " bytes and "
                    + MAX_FDS + " descriptors");
        }
        return new Message(data.getByteArray(0, (int) n), fds);
    }

    private static final int MSG_CTRUNC = 0x8;
    private static final int MSG_TRUNC = 0x20;

    private static int[] descriptors(Memory control, long controlLength) {
        if (controlLength < CMSG_HEADER) {
            return new int[0];
        }
        long cmsgLen = control.getLong(0);
        if (control.getInt(8) != LibC.SOL_SOCKET || control.getInt(12) != LibC.SCM_RIGHTS) {
            return new int[0];
        }
        int count = (int) ((cmsgLen - CMSG_HEADER) / 4);
        return Arrays.copyOf(control.getIntArray(CMSG_HEADER, count), count);
    }

    private static Memory iovec(Memory data, long length) {
        Memory iov = new Memory(16);
        iov.setPointer(0, data);
        iov.setLong(8, length);
        return iov;
    }

    private static Memory msghdr(Memory iov, Pointer control, long controlLength) {
        Memory header = new Memory(56);
        header.clear();
        header.setPointer(16, iov); // msg_iov
        header.setLong(24, 1); // msg_iovlen
        header.setPointer(32, control); // msg_control
        header.setLong(40, controlLength); // msg_controllen
        return header;
    }

    private static byte[] address(Path path) {
        byte[] text = path.toString().getBytes(StandardCharsets.UTF_8);
        if (text.length >= SUN_PATH_MAX) {
            throw new IllegalArgumentException("unix socket path too long (" + text.length + " bytes): " + path);
        }
        byte[] address = new byte[2 + text.length + 1];
        address[0] = (byte) LibC.AF_UNIX; // sa_family_t, little-endian
        System.arraycopy(text, 0, address, 2, text.length);
        return address;
    }

    /** Waits up to {@code timeoutMillis} for a client or a message; true if one is there. */
    public boolean awaitReadable(int timeoutMillis) throws SyscallException {
        return NativeSocket.adopt(fd, name).poll(LibC.POLLIN, timeoutMillis) != 0; // a view: does not own fd
    }

    public int fd() {
        return fd;
    }

    /** After a failed bind, listen or connect: the caller throws that failure, not a close error. */
    private void closeQuietly() {
        closed = true;
        LibC.close(fd);
    }

    @Override
    public void close() throws SyscallException {
        if (closed) {
            return;
        }
        closed = true;
        if (LibC.close(fd) < 0) {
            throw SyscallException.of("close(" + name + ")", Native.getLastError());
        }
    }
}
