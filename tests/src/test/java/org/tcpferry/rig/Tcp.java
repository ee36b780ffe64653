package org.tcpferry.rig;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** TCP through rig namespaces with plain java.net sockets: what "these two can talk" means in tests. */
final class Tcp {
    private Tcp() {}

    /** A listener on {@code address}, port chosen by the kernel, created inside {@code ns}. */
    static ServerSocket listen(Namespace ns, String address) throws IOException {
        return ns.netns().call(() -> new ServerSocket(0, 10, InetAddress.getByName(address)));
    }

    /** A connection from inside {@code ns} to {@code to}, failing after two seconds. */
    static Socket connect(Namespace ns, InetSocketAddress to) throws IOException {
        return ns.netns().call(() -> {
            Socket socket = new Socket();
            try {
                socket.connect(to, 2000);
                socket.setSoTimeout(5000);
                return socket;
            } catch (IOException e) {
                socket.close();
                throw new IOException(ns + " cannot connect to " + to + ": " + e.getMessage(), e);
            }
        });
    }

    /** Connects from {@code client} to a listener in {@code server} at {@code address} and exchanges a line. */
    static void roundTrip(Namespace server, String address, Namespace client) throws IOException {
        try (ServerSocket listener = listen(server, address)) {
            listener.setSoTimeout(5000);
            InetSocketAddress to = new InetSocketAddress(InetAddress.getByName(address), listener.getLocalPort());
            try (Socket outgoing = connect(client, to); Socket incoming = listener.accept()) {
                incoming.setSoTimeout(5000);
                exchange(outgoing, incoming, "hello from " + client.role());
                exchange(incoming, outgoing, "hello from " + server.role());
            }
        }
    }

    /** Sends {@code message} on {@code from} and checks that it arrives whole on {@code to}. */
    static void exchange(Socket from, Socket to, String message) throws IOException {
        byte[] sent = message.getBytes(StandardCharsets.UTF_8);
        OutputStream out = from.getOutputStream();
        out.write(sent);
        out.flush();
        InputStream in = to.getInputStream();
        assertThat(in.readNBytes(sent.length)).isEqualTo(sent);
    }
}
