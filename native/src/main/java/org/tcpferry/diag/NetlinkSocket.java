package org.tcpferry.diag;

import com.sun.jna.Native;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.tcpferry.sys.Errno;
import org.tcpferry.sys.LibC;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.SyscallException;

/**
 * A netlink socket that runs dump requests against the kernel: one request out, a multipart
 * reply in, ended by {@code NLMSG_DONE}. Used here for NETLINK_SOCK_DIAG; nothing in it is
 * specific to sock_diag.
 *
 * <pre>
 * struct sockaddr_nl { sa_family_t nl_family; unsigned short nl_pad; __u32 nl_pid; __u32 nl_groups; }   12 bytes
 * struct nlmsghdr    { __u32 nlmsg_len; __u16 nlmsg_type; __u16 nlmsg_flags; __u32 nlmsg_seq; __u32 nlmsg_pid; }  16 bytes
 * struct nlmsgerr    { int error; struct nlmsghdr msg; ... }     payload of NLMSG_ERROR (error is -errno)
 * NLMSG_DONE payload: int error (0, or -errno when the dump failed part way)
 * </pre>
 * Netlink headers are in host byte order; every message starts on a 4-byte boundary.
 *
 * <p>Not thread-safe: one dump at a time per socket.
 */
final class NetlinkSocket implements Closeable {
    static final int NETLINK_SOCK_DIAG = 4;

    static final int NLMSG_HDRLEN = 16;
    static final int NLMSG_NOOP = 1;
    static final int NLMSG_ERROR = 2;
    static final int NLMSG_DONE = 3;
    static final int NLM_F_REQUEST = 0x1;
    static final int NLM_F_DUMP = 0x300; // NLM_F_ROOT | NLM_F_MATCH

    private static final int MSG_TRUNC = 0x20;
    /**
     * The kernel sizes each dump datagram by the reader's last buffer (at most 32 KiB plus
     * headroom); 64 KiB always holds one, and MSG_TRUNC proves it did.
     */
    private static final int RECEIVE_BUFFER = 64 * 1024;

    private final NativeSocket socket;
    private final byte[] buffer = new byte[RECEIVE_BUFFER];
    private int nextSeq = 1;

    private NetlinkSocket(NativeSocket socket) {
        this.socket = socket;
    }

    /** A netlink socket of {@code protocol} (e.g. {@link #NETLINK_SOCK_DIAG}) in the calling thread's netns. */
    static NetlinkSocket open(int protocol) throws SyscallException {
        return new NetlinkSocket(NativeSocket.open(LibC.AF_NETLINK, LibC.SOCK_RAW, protocol));
    }

    /** Receives each message of a dump reply, payload only, in host byte order. */
    @FunctionalInterface
    interface MessageHandler {
        void onMessage(int type, ByteBuffer payload) throws IOException;
    }

    /**
     * Sends {@code request} (a complete netlink message whose seq field this method fills in) and
     * hands every reply message to {@code handler} until NLMSG_DONE.
     *
     * @param what names the request in errors, e.g. {@code sock_diag dump(AF_INET, TCP)}
     * @throws SyscallException if the kernel answers NLMSG_ERROR or a failed NLMSG_DONE, or a call fails
     */
    void dump(byte[] request, String what, MessageHandler handler) throws IOException {
        int seq = nextSeq++;
        ByteBuffer.wrap(request).order(ByteOrder.nativeOrder()).putInt(8, seq);
        send(request, what);
        while (true) {
            int length = receive(what);
            ByteBuffer datagram = ByteBuffer.wrap(buffer, 0, length).slice().order(ByteOrder.nativeOrder());
            if (readMessages(datagram, seq, what, handler)) {
                return;
            }
        }
    }

    /** Walks the messages of one datagram; true once NLMSG_DONE was seen. */
    private static boolean readMessages(ByteBuffer datagram, int seq, String what, MessageHandler handler)
            throws IOException {
        int offset = 0;
        while (offset + NLMSG_HDRLEN <= datagram.limit()) {
            int length = datagram.getInt(offset);
            int type = Short.toUnsignedInt(datagram.getShort(offset + 4));
            int messageSeq = datagram.getInt(offset + 8);
            if (length < NLMSG_HDRLEN || offset + length > datagram.limit()) {
                throw new IOException(what + ": malformed netlink message, length " + length + " at offset " + offset
                        + " of a " + datagram.limit() + "-byte datagram");
            }
            if (messageSeq != seq) {
                // A fresh socket only ever carries our own dump, so this is a protocol error, not noise.
                throw new IOException(what + ": netlink reply for sequence " + messageSeq + ", expected " + seq);
            }
            ByteBuffer payload = datagram.slice(offset + NLMSG_HDRLEN, length - NLMSG_HDRLEN)
                    .order(ByteOrder.nativeOrder());
            switch (type) {
                case NLMSG_DONE:
                    throwIfFailed(payload, what);
                    return true;
                case NLMSG_ERROR:
                    throwIfFailed(payload, what);
                    // error 0 is an acknowledgement; a dump does not ask for one, but it is harmless.
                    break;
                case NLMSG_NOOP:
                    break;
                default:
                    handler.onMessage(type, payload);
            }
            offset += align4(length);
        }
        return false;
    }

    /** NLMSG_ERROR and NLMSG_DONE both start with an int that is 0 or -errno. */
    private static void throwIfFailed(ByteBuffer payload, String what) throws SyscallException {
        if (payload.limit() >= 4) {
            int error = payload.getInt(0);
            if (error < 0) {
                throw SyscallException.of(what, -error);
            }
        }
    }

    private void send(byte[] request, String what) throws SyscallException {
        byte[] kernel = new byte[12]; // sockaddr_nl with nl_pid 0: the kernel
        kernel[0] = (byte) LibC.AF_NETLINK;
        long sent;
        do {
            sent = LibC.sendto(socket.fd(), request, request.length, 0, kernel, kernel.length);
        } while (sent < 0 && Native.getLastError() == Errno.EINTR);
        if (sent < 0) {
            throw SyscallException.of("sendto(netlink fd " + socket.fd() + ") of " + what, Native.getLastError());
        }
    }

    private int receive(String what) throws IOException {
        long n;
        do {
            n = LibC.recv(socket.fd(), buffer, buffer.length, MSG_TRUNC);
        } while (n < 0 && Native.getLastError() == Errno.EINTR);
        if (n < 0) {
            throw SyscallException.of("recv(netlink fd " + socket.fd() + ") of " + what, Native.getLastError());
        }
        if (n > buffer.length) {
            throw new IOException(what + ": netlink datagram of " + n + " bytes truncated to " + buffer.length);
        }
        return (int) n;
    }

    static int align4(int length) {
        return (length + 3) & ~3;
    }

    @Override
    public void close() throws SyscallException {
        socket.close();
    }
}
