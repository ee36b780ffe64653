package org.tcpferry.sys;

import java.io.IOException;

/**
 * A libc call that failed. The message names the call, its arguments and, where known, the flow
 * it acted on, then the errno: {@code setsockopt(fd 12, SOL_TCP, TCP_REPAIR, 1) on
 * 10.0.0.2:5000->10.0.0.1:40000: EPERM (Operation not permitted)}.
 *
 * <p>Subclasses exist for the failures a caller branches on; everything else is this class.
 * Create them through {@link #of}.
 */
public class SyscallException extends IOException {
    private final String call;
    private final int errno;

    protected SyscallException(String call, int errno) {
        super(call + ": " + Errno.describe(errno));
        this.call = call;
        this.errno = errno;
    }

    /** The call with its arguments and flow, as in the message. */
    public String call() {
        return call;
    }

    public int errno() {
        return errno;
    }

    /** The most specific exception for {@code errno}. */
    public static SyscallException of(String call, int errno) {
        switch (errno) {
            case Errno.EPERM:
            case Errno.EACCES:
                return new NotPermittedException(call, errno);
            case Errno.ENOMEM:
            case Errno.ENOBUFS:
                return new OutOfKernelMemoryException(call, errno);
            case Errno.EAGAIN:
                return new WouldBlockException(call, errno);
            case Errno.ENOPROTOOPT:
            case Errno.EOPNOTSUPP:
                return new UnsupportedOptionException(call, errno);
            case Errno.EBADF:
            case Errno.ENOTSOCK:
                return new BadDescriptorException(call, errno);
            default:
                return new SyscallException(call, errno);
        }
    }

    /** EPERM or EACCES: usually CAP_NET_ADMIN is missing, or a repair option was set in the wrong state. */
    public static final class NotPermittedException extends SyscallException {
        NotPermittedException(String call, int errno) {
            super(call, errno);
        }
    }

    /** ENOMEM or ENOBUFS: the kernel refused memory; the caller may retry with a smaller chunk. */
    public static final class OutOfKernelMemoryException extends SyscallException {
        OutOfKernelMemoryException(String call, int errno) {
            super(call, errno);
        }
    }

    /** EAGAIN on a non-blocking call. */
    public static final class WouldBlockException extends SyscallException {
        WouldBlockException(String call, int errno) {
            super(call, errno);
        }
    }

    /** ENOPROTOOPT or EOPNOTSUPP: this kernel lacks the option or the socket does not support it. */
    public static final class UnsupportedOptionException extends SyscallException {
        UnsupportedOptionException(String call, int errno) {
            super(call, errno);
        }
    }

    /** EBADF or ENOTSOCK: the descriptor is not open, or not a socket. */
    public static final class BadDescriptorException extends SyscallException {
        BadDescriptorException(String call, int errno) {
            super(call, errno);
        }
    }
}
