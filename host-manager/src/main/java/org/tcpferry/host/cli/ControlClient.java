package org.tcpferry.host.cli;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import org.tcpferry.protocol.ErrorReply;
import org.tcpferry.protocol.Frame;
import org.tcpferry.protocol.FrameStreams;
import org.tcpferry.protocol.Hello;
import org.tcpferry.protocol.HelloReply;
import org.tcpferry.protocol.Message;
import org.tcpferry.protocol.MessageCodec;
import org.tcpferry.protocol.Progress;

/** The CLI's side of the control socket: Hello, then one request at a time (odd ids: the CLI opened it). */
final class ControlClient implements Closeable {
    private final SocketChannel channel;
    private final InputStream in;
    private final OutputStream out;
    private int nextId = 1;

    private ControlClient(SocketChannel channel) {
        this.channel = channel;
        this.in = Channels.newInputStream(channel);
        this.out = Channels.newOutputStream(channel);
    }

    static ControlClient connect(Path socket) throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.connect(UnixDomainSocketAddress.of(socket));
            ControlClient client = new ControlClient(channel);
            Message hello = client.ask(new Hello(Hello.CONTROL, "cli", ""));
            if (!(hello instanceof HelloReply)) {
                throw new IOException("the daemon refused the CLI: " + hello);
            }
            return client;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** Sends {@code request} and returns its reply, skipping Progress; an ErrorReply becomes an IOException. */
    Message ask(Message request) throws IOException {
        return ask(request, progress -> { });
    }

    /** As {@link #ask(Message)}, handing each Progress of this request to {@code onProgress}. */
    Message ask(Message request, java.util.function.Consumer<Progress> onProgress) throws IOException {
        int id = nextId;
        nextId += 2;
        FrameStreams.write(out, MessageCodec.encode(id, request));
        while (true) {
            Frame frame = FrameStreams.read(in);
            if (frame == null) {
                throw new IOException("the daemon closed the connection");
            }
            Message reply = MessageCodec.decode(frame);
            if (frame.requestId() != id) {
                continue;
            }
            if (reply instanceof Progress progress) {
                onProgress.accept(progress);
                continue;
            }
            if (reply instanceof ErrorReply error) {
                throw new IOException(error.code() + ": " + error.message());
            }
            return reply;
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
