package org.tcpferry.sys;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;

/**
 * A mirror of the libc calls tcpferry needs, one static method per C function, through JNA's
 * direct mapping. Direct mapping costs about a quarter of an interface mapping per call on these
 * machines (kernel-notes, item 14), and the repair engine makes about 25 calls per connection.
 *
 * <p>Nothing here interprets a result: every method returns what libc returns, and errno is read
 * with {@link Native#getLastError()}. Meaning, errno checks and exceptions live one layer up, in
 * {@link Syscalls} and {@link NativeSocket}. Constants carry their C names so that the kernel
 * headers and this file can be read side by side.
 *
 * <p>{@code ioctl}, {@code fcntl}, {@code open} and {@code syscall} are variadic in C. They are
 * mapped with fixed integer and pointer arguments, which the x86-64 and aarch64 calling
 * conventions pass identically for non-floating-point arguments.
 */
public final class LibC {
    static {
        Native.register(LibC.class, NativeLibrary.getInstance("c"));
    }

    private LibC() {}

    // <sys/socket.h> address families and socket types
    public static final int AF_UNSPEC = 0;
    public static final int AF_UNIX = 1;
    public static final int AF_INET = 2;
    public static final int AF_INET6 = 10;
    public static final int AF_NETLINK = 16;
    public static final int AF_PACKET = 17;
    public static final int SOCK_STREAM = 1;
    public static final int SOCK_DGRAM = 2;
    public static final int SOCK_SEQPACKET = 5;
    public static final int SOCK_RAW = 3;
    public static final int SOCK_NONBLOCK = 0x800;
    public static final int SOCK_CLOEXEC = 0x80000;

    // protocols and option levels
    public static final int IPPROTO_IP = 0;
    public static final int IPPROTO_TCP = 6;
    public static final int IPPROTO_IPV6 = 41;
    public static final int IPPROTO_RAW = 255;
    public static final int SOL_SOCKET = 1;
    public static final int SOL_TCP = 6;
    public static final int SOL_IP = 0;
    public static final int SOL_IPV6 = 41;

    // SOL_SOCKET options
    public static final int SO_REUSEADDR = 2;
    public static final int SO_ERROR = 4;
    public static final int SO_SNDBUF = 7;
    public static final int SO_RCVBUF = 8;
    public static final int SO_KEEPALIVE = 9;
    public static final int SO_LINGER = 13;
    public static final int SO_REUSEPORT = 15;
    public static final int SO_DOMAIN = 39;
    public static final int SO_SNDBUFFORCE = 32;
    public static final int SO_RCVBUFFORCE = 33;
    public static final int SO_MARK = 36;
    public static final int SO_NETNS_COOKIE = 71;

    // SOL_IP / SOL_IPV6 options
    public static final int IP_HDRINCL = 3;
    public static final int IP_TRANSPARENT = 19;
    public static final int IPV6_V6ONLY = 26;
    public static final int IPV6_TRANSPARENT = 75;

    // SOL_TCP options, <linux/tcp.h>
    public static final int TCP_NODELAY = 1;
    public static final int TCP_MAXSEG = 2;
    public static final int TCP_KEEPIDLE = 4;
    public static final int TCP_KEEPINTVL = 5;
    public static final int TCP_KEEPCNT = 6;
    public static final int TCP_INFO = 11;
    public static final int TCP_USER_TIMEOUT = 18;
    public static final int TCP_REPAIR = 19;
    public static final int TCP_REPAIR_QUEUE = 20;
    public static final int TCP_QUEUE_SEQ = 21;
    public static final int TCP_REPAIR_OPTIONS = 22;
    public static final int TCP_TIMESTAMP = 24;
    public static final int TCP_REPAIR_WINDOW = 29;

    // TCP_REPAIR values and TCP_REPAIR_QUEUE selectors
    public static final int TCP_REPAIR_ON = 1;
    public static final int TCP_REPAIR_OFF = 0;
    public static final int TCP_REPAIR_OFF_NO_WP = -1;
    public static final int TCP_NO_QUEUE = 0;
    public static final int TCP_RECV_QUEUE = 1;
    public static final int TCP_SEND_QUEUE = 2;

    // TCP_REPAIR_OPTIONS codes (TCPOPT_* in <net/tcp.h>)
    public static final int TCPOPT_MAXSEG = 2;
    public static final int TCPOPT_WINDOW = 3;
    public static final int TCPOPT_SACK_PERM = 4;
    public static final int TCPOPT_TIMESTAMP = 8;

    // tcp_info.tcpi_options bits
    public static final int TCPI_OPT_TIMESTAMPS = 1;
    public static final int TCPI_OPT_SACK = 2;
    public static final int TCPI_OPT_WSCALE = 4;

    // send/recv flags
    public static final int MSG_PEEK = 0x2;
    public static final int MSG_DONTWAIT = 0x40;
    public static final int MSG_NOSIGNAL = 0x4000;
    public static final int MSG_CMSG_CLOEXEC = 0x40000000;
    /** cmsg type carrying descriptors over a unix socket. */
    public static final int SCM_RIGHTS = 1;

    // ioctl requests
    public static final long SIOCOUTQ = 0x5411;
    public static final long SIOCINQ = 0x541B;
    public static final long SIOCOUTQNSD = 0x894B;

    // poll events
    public static final short POLLIN = 0x1;
    public static final short POLLOUT = 0x4;
    public static final short POLLERR = 0x8;
    public static final short POLLHUP = 0x10;
    public static final short POLLRDHUP = 0x2000;

    // epoll(7): epoll_create1 flags, epoll_ctl operations, event bits (the POLL* values)
    public static final int EPOLL_CLOEXEC = 0x80000;
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLL_CTL_DEL = 2;
    public static final int EPOLL_CTL_MOD = 3;
    public static final int EPOLLIN = 0x1;
    public static final int EPOLLERR = 0x8;
    public static final int EPOLLHUP = 0x10;

    // shutdown(2), open(2), fcntl(2), setns(2)
    public static final int SHUT_RD = 0;
    public static final int SHUT_WR = 1;
    public static final int O_RDONLY = 0;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_CLOEXEC = 0x80000;
    public static final int F_GETFL = 3;
    public static final int F_SETFL = 4;
    public static final int CLONE_NEWNET = 0x40000000;

    // syscall numbers without a glibc wrapper in Debian 12 (x86-64)
    public static final long SYS_pidfd_open = 434;
    public static final long SYS_pidfd_getfd = 438;

    public static native int socket(int domain, int type, int protocol);
    public static native int bind(int fd, byte[] addr, int addrlen);
    public static native int connect(int fd, byte[] addr, int addrlen);
    public static native int listen(int fd, int backlog);
    public static native int accept4(int fd, byte[] addr, int[] addrlen, int flags);
    public static native int getsockname(int fd, byte[] addr, int[] addrlen);
    public static native int getpeername(int fd, byte[] addr, int[] addrlen);
    public static native int getsockopt(int fd, int level, int name, byte[] value, int[] len);
    public static native int setsockopt(int fd, int level, int name, byte[] value, int len);
    public static native long send(int fd, byte[] buf, long len, int flags);
    public static native long recv(int fd, byte[] buf, long len, int flags);
    public static native long sendto(int fd, byte[] buf, long len, int flags, byte[] addr, int addrlen);
    public static native int shutdown(int fd, int how);
    public static native int ioctl(int fd, long request, int[] arg);
    public static native int poll(byte[] pollfds, long nfds, int timeoutMillis);
    public static native int epoll_create1(int flags);
    public static native int epoll_ctl(int epfd, int op, int fd, byte[] event);
    public static native int epoll_wait(int epfd, byte[] events, int maxevents, int timeoutMillis);
    public static native int close(int fd);
    /** {@code statbuf} of at least 144 bytes (struct stat on x86-64 and aarch64); st_ino is at byte 8 on both. */
    public static native int fstat(int fd, byte[] statbuf);
    public static native long sendmsg(int fd, com.sun.jna.Pointer msghdr, int flags);
    public static native long recvmsg(int fd, com.sun.jna.Pointer msghdr, int flags);
    public static native int fcntl(int fd, int cmd, int arg);
    public static native int open(String path, int flags);
    public static native int setns(int fd, int nstype);
    public static native int getpid();
    public static native long syscall(long number, long arg1, long arg2, long arg3);
    public static native String strerror(int errnum);
    public static native int if_nametoindex(String ifname);
}
