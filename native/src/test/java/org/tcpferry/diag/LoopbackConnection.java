package org.tcpferry.diag;

import com.sun.jna.Native;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import org.tcpferry.sys.LibC;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.SockAddr;
import org.tcpferry.sys.SockOpt;
import org.tcpferry.sys.SyscallException;

/** A real TCP connection over loopback inside this process: client and accepted server end. */
final class LoopbackConnection implements AutoCloseable {
    private static final int SO_LINGER = 13;

    final NativeSocket client;
    final NativeSocket server;

    private LoopbackConnection(NativeSocket client, NativeSocket server) {
        this.client = client;
        this.server = server;
    }

    /**
     * Connects a new client to {@code listener} and accepts it. The client binds its source address
     * first: on a shared machine other tests' TIME_WAIT sockets can exhaust connect()'s ephemeral
     * ports on 127.0.0.1 (measured: EADDRNOTAVAIL after 631 connections), while bind() searches
     * ports per address, and an IPv4 client gets an address of 127/8 that nobody else uses.
     */
    static LoopbackConnection to(NativeSocket listener) throws IOException {
        InetSocketAddress address = listener.localAddress();
        NativeSocket client = NativeSocket.tcp(SockAddr.family(address.getAddress()));
        try {
            client.bind(new InetSocketAddress(clientAddress(address.getAddress()), 0));
            client.connect(address);
            return new LoopbackConnection(client, listener.accept());
        } catch (IOException e) {
            client.close();
            throw e;
        }
    }

    /** A listener on an ephemeral port of {@code loopback} (127.0.0.1 or ::1). */
    static NativeSocket listener(String loopback, int backlog) throws IOException {
        InetAddress address = InetAddress.getByName(loopback);
        NativeSocket listener = NativeSocket.tcp(SockAddr.family(address));
        try {
            // Other tests' TIME_WAIT sockets on 127.0.0.1 must not make bind() fail.
            listener.setInt(SockOpt.SO_REUSEADDR, 1);
            listener.bind(new InetSocketAddress(address, 0));
            listener.listen(backlog);
            return listener;
        } catch (SyscallException e) {
            listener.close();
            throw e;
        }
    }

    /** The inode behind descriptor {@code fd} of this process, from its {@code socket:[N]} link. */
    static long inodeOf(NativeSocket socket) throws IOException {
        String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + socket.fd())).toString();
        if (!target.startsWith("socket:[")) {
            throw new IllegalStateException("fd " + socket.fd() + " is " + target + ", not a socket");
        }
        return Long.parseLong(target.substring("socket:[".length(), target.length() - 1));
    }

    private static final InetAddress IPV4_CLIENT = randomLoopbackAddress();

    private static InetAddress clientAddress(InetAddress server) {
        return server instanceof Inet4Address ? IPV4_CLIENT : server;
    }

    /** An address in 127.64.0.0/10, away from the 127.0.0.1 that everybody uses. */
    private static InetAddress randomLoopbackAddress() {
        int random = ThreadLocalRandom.current().nextInt(1 << 22);
        byte[] raw = {127, (byte) (64 | random >>> 16), (byte) (random >>> 8), (byte) Math.max(1, random & 0xff)};
        try {
            return InetAddress.getByAddress(raw);
        } catch (UnknownHostException impossible) {
            throw new IllegalStateException(impossible);
        }
    }

    /**
     * Closes with a reset (SO_LINGER 0) instead of a FIN, so that no TIME_WAIT socket is left to
     * hold the port for a minute: a test making a thousand connections must not starve the others.
     */
    void abort() throws SyscallException {
        byte[] lingerZero = {1, 0, 0, 0, 0, 0, 0, 0}; // struct linger { int l_onoff = 1; int l_linger = 0; }
        if (LibC.setsockopt(client.fd(), LibC.SOL_SOCKET, SO_LINGER, lingerZero, lingerZero.length) < 0) {
            throw SyscallException.of("setsockopt(fd " + client.fd() + ", SO_LINGER, {1, 0})", Native.getLastError());
        }
        close();
    }

    @Override
    public void close() throws SyscallException {
        try {
            client.close();
        } finally {
            server.close();
        }
    }
}
