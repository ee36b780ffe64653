package org.tcpferry.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Iterator;

/**
 * The peers of a benchmark, in a process of their own: 10,000 connections need 20,000
 * descriptors on two sides, more than one process may open here. Accepts on a loopback port
 * (printed on the first line of stdout), sends {@code UNREAD} bytes to each new connection,
 * then either echoes whatever arrives ({@value #ECHO}) or stays quiet ({@value #QUIET}: a segment
 * reaching a connection while a benchmark has it detached would be answered with RST), and closes
 * a connection that ends or resets. Exits when stdin closes.
 *
 * <p>Arguments: {@code UNREAD [echo|quiet]}, echo by default.
 */
public final class PeerHolder {
    /** Echo what arrives (to check a connection after a cycle), or stay quiet. */
    public static final String ECHO = "echo";
    public static final String QUIET = "quiet";

    public static void main(String[] args) throws IOException {
        int unread = Integer.parseInt(args[0]);
        boolean echo = args.length < 2 || args[1].equals(ECHO);
        byte[] greeting = new byte[unread];
        java.util.Arrays.fill(greeting, (byte) 'x');
        Selector selector = Selector.open();
        ServerSocketChannel server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8192);
        server.configureBlocking(false);
        server.register(selector, SelectionKey.OP_ACCEPT);
        System.out.println(((InetSocketAddress) server.getLocalAddress()).getPort());
        System.out.flush();
        Thread watchdog = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // the parent keeps stdin open while it needs us
                }
            } catch (IOException ignored) {
                // a broken stdin means the parent is gone: same as end of input
            }
            System.exit(0);
        }, "stdin-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        ByteBuffer buffer = ByteBuffer.allocateDirect(65536);
        while (true) {
            selector.select();
            Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
            while (keys.hasNext()) {
                SelectionKey key = keys.next();
                keys.remove();
                if (key.isAcceptable()) {
                    SocketChannel c;
                    while ((c = server.accept()) != null) {
                        c.configureBlocking(false);
                        c.write(ByteBuffer.wrap(greeting));
                        c.register(selector, SelectionKey.OP_READ);
                    }
                } else if (key.isReadable()) {
                    SocketChannel c = (SocketChannel) key.channel();
                    buffer.clear();
                    int n;
                    try {
                        n = c.read(buffer);
                    } catch (IOException reset) {
                        n = -1; // the benchmark resets connections it is done with
                    }
                    if (n < 0) {
                        key.cancel();
                        c.close();
                    } else if (echo) {
                        buffer.flip();
                        c.write(buffer);
                    }
                }
            }
        }
    }
}
