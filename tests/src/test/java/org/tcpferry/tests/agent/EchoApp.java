package org.tcpferry.tests.agent;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * The guest application of the agent tests, run as its own process in the guest namespace: it
 * knows nothing of tcpferry. It opens {@code count} connections to {@code host:port} ("client") or
 * accepts {@code count} on {@code host:port} ("server"), then echoes every byte back on the same
 * connection with one epoll selector; when the peer finishes its side, it finishes its own after
 * echoing everything. Prints {@code READY} once all connections exist and {@code DONE} when all are
 * closed, then exits 0; any I/O error is printed and exits 1 (a reset or timeout is a failure).
 */
public final class EchoApp {
    private static final int BUFFER = 64 * 1024;

    private static final class Conn {
        final ArrayDeque<ByteBuffer> out = new ArrayDeque<>();
        boolean peerDone;
        boolean buffered;
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        String host = args[1];
        int port = Integer.parseInt(args[2]);
        int count = Integer.parseInt(args[3]);
        Selector selector = Selector.open();
        if (mode.equals("client")) {
            for (int i = 0; i < count; i++) {
                SocketChannel ch = SocketChannel.open(new InetSocketAddress(host, port));
                ch.configureBlocking(false);
                ch.register(selector, SelectionKey.OP_READ, new Conn());
            }
        } else {
            try (ServerSocketChannel server = ServerSocketChannel.open()) {
                server.bind(new InetSocketAddress(host, port), count);
                System.out.println("LISTENING");
                System.out.flush();
                for (int i = 0; i < count; i++) {
                    SocketChannel ch = server.accept();
                    ch.configureBlocking(false);
                    ch.register(selector, SelectionKey.OP_READ, new Conn());
                }
            }
        }
        System.out.println("READY");
        System.out.flush();
        int open = count;
        try {
            while (open > 0) {
                selector.select();
                Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                while (keys.hasNext()) {
                    SelectionKey key = keys.next();
                    keys.remove();
                    if (serve(key)) {
                        open--;
                    }
                }
            }
        } catch (IOException e) {
            System.out.println("ERROR " + e);
            System.out.flush();
            System.exit(1);
        }
        System.out.println("DONE");
        System.out.flush();
    }

    /** Returns true when the connection is finished both ways. */
    private static boolean serve(SelectionKey key) throws IOException {
        SocketChannel ch = (SocketChannel) key.channel();
        Conn c = (Conn) key.attachment();
        if (key.isReadable() && !c.peerDone && c.out.size() < 64) {
            ByteBuffer buf = ByteBuffer.allocate(BUFFER);
            int n = ch.read(buf);
            if (n < 0) {
                c.peerDone = true;
            } else if (n > 0) {
                buf.flip();
                c.out.add(buf);
            }
        }
        while (!c.out.isEmpty()) {
            ByteBuffer head = c.out.peek();
            ch.write(head);
            if (head.hasRemaining()) {
                break;
            }
            c.out.poll();
        }
        if (c.peerDone && c.out.isEmpty()) {
            ch.shutdownOutput();
            ch.close();
            return true;
        }
        int ops = c.out.isEmpty() ? 0 : SelectionKey.OP_WRITE;
        if (!c.peerDone && c.out.size() < 64) {
            ops |= SelectionKey.OP_READ;
        }
        key.interestOps(ops);
        return false;
    }
}
