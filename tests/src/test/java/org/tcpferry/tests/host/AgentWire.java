package org.tcpferry.tests.host;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketAddress;
import org.tcpferry.protocol.Frame;
import org.tcpferry.protocol.FrameStreams;
import org.tcpferry.protocol.Message;
import org.tcpferry.protocol.MessageCodec;

/** A minimal guest agent on the wire: blocking frames over a TCP guest channel. */
final class AgentWire implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private int nextId = 1;

    AgentWire(SocketAddress address) throws IOException {
        socket = new Socket();
        socket.connect(address, 5000);
        socket.setSoTimeout(30_000);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    /** Sends {@code request} and returns the reply with the same requestId. */
    Message ask(Message request) throws IOException {
        int id = nextId++;
        FrameStreams.write(out, MessageCodec.encode(id, request));
        Frame frame = FrameStreams.read(in);
        if (frame == null) {
            throw new IOException("host closed the channel");
        }
        if (frame.requestId() != id) {
            throw new IOException("reply to request " + frame.requestId() + ", expected " + id);
        }
        return MessageCodec.decode(frame);
    }

    void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** The next frame, or null at end of stream. */
    Message read() throws IOException {
        Frame frame = FrameStreams.read(in);
        return frame == null ? null : MessageCodec.decode(frame);
    }


    @Override
    public void close() throws IOException {
        socket.close();
    }
}
