package org.tcpferry.bench.cycle;

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
 * The floor's peers, in a process of their own (10,000 connections need 20,000 descriptors on
 * two sides). Accepts on a loopback port (printed on stdout), sends {@link Streamer#CHUNK} bytes
 * to each new connection and then stays quiet: a segment reaching a connection while the floor
 * has it detached would be answered with RST. Closes a connection that ends or resets; exits
 * when stdin closes.
 */
public final class QuietPeer {
    public static void main(String[] args) throws IOException {
        byte[] greeting = new byte[Streamer.CHUNK];
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
            } catch (IOException broken) {
                System.err.println("stdin broken: " + broken.getMessage());
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
                        n = -1; // the floor resets connections it is done with
                    }
                    if (n < 0) {
                        key.cancel();
                        c.close();
                    }
                }
            }
        }
    }
}
