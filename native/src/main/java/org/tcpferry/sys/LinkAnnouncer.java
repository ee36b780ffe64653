package org.tcpferry.sys;

import com.sun.jna.Native;
import java.io.Closeable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;

/**
 * Sends announce frames on one interface: a broadcast RARP request whose source is a given MAC,
 * as a hypervisor sends after a migration (QEMU's announce-self). Every switch and bridge on the
 * segment learns that the MAC now lives behind this interface, so frames for it come here. The
 * socket is an AF_PACKET raw socket with protocol 0 (it sends only; nothing is ever received on it),
 * bound to the interface, made in the caller's network namespace.
 */
public final class LinkAnnouncer implements Closeable {
    private static final int ETH_P_RARP = 0x8035;
    private static final int ETH_FRAME_MIN = 60;
    private static final int SOCKADDR_LL_SIZE = 20;

    private final NativeSocket socket;
    private final String ifname;

    private LinkAnnouncer(NativeSocket socket, String ifname) {
        this.socket = socket;
        this.ifname = ifname;
    }

    /** A sender bound to {@code ifname} of the calling thread's network namespace. */
    public static LinkAnnouncer on(String ifname) throws SyscallException {
        int index = LibC.if_nametoindex(ifname);
        if (index == 0) {
            throw SyscallException.of("if_nametoindex(" + ifname + ")", Native.getLastError());
        }
        NativeSocket socket = NativeSocket.open(LibC.AF_PACKET, LibC.SOCK_RAW, 0).describe("announce on " + ifname);
        ByteBuffer ll = ByteBuffer.allocate(SOCKADDR_LL_SIZE).order(ByteOrder.nativeOrder());
        ll.putShort((short) LibC.AF_PACKET).putShort((short) 0).putInt(index);
        if (LibC.bind(socket.fd(), ll.array(), SOCKADDR_LL_SIZE) < 0) {
            SyscallException failure = SyscallException.of("bind(AF_PACKET, " + ifname + " index " + index + ")",
                    Native.getLastError());
            try {
                socket.close();
            } catch (SyscallException e) {
                failure.addSuppressed(e);
            }
            throw failure;
        }
        return new LinkAnnouncer(socket, ifname);
    }

    /** One announce frame for {@code mac} ({@code aa:bb:cc:dd:ee:ff}). */
    public void announce(String mac) throws SyscallException {
        byte[] frame = frame(parseMac(mac));
        socket.send(frame, frame.length, 0);
    }

    /** The RARP "request reverse" frame QEMU sends: sender and target hardware address are the MAC. */
    static byte[] frame(byte[] mac) {
        ByteBuffer b = ByteBuffer.allocate(ETH_FRAME_MIN).order(ByteOrder.BIG_ENDIAN);
        b.put(new byte[] {-1, -1, -1, -1, -1, -1}).put(mac).putShort((short) ETH_P_RARP);
        b.putShort((short) 1).putShort((short) 0x0800).put((byte) 6).put((byte) 4).putShort((short) 3);
        b.put(mac).putInt(0).put(mac).putInt(0);
        return b.array(); // zero padding to the minimum frame size
    }

    static byte[] parseMac(String mac) {
        String[] parts = mac.toLowerCase(Locale.ROOT).split(":");
        if (parts.length != 6) {
            throw new IllegalArgumentException("not a MAC address: " + mac);
        }
        byte[] out = new byte[6];
        for (int i = 0; i < 6; i++) {
            out[i] = (byte) Integer.parseInt(parts[i], 16);
        }
        return out;
    }

    @Override
    public String toString() {
        return "announcer on " + ifname;
    }

    @Override
    public void close() throws SyscallException {
        socket.close();
    }
}
