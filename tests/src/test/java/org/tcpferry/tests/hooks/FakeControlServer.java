package org.tcpferry.tests.hooks;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.tcpferry.protocol.ControlReply;
import org.tcpferry.protocol.Frame;
import org.tcpferry.protocol.FrameStreams;
import org.tcpferry.protocol.Frames;
import org.tcpferry.protocol.Hello;
import org.tcpferry.protocol.HelloReply;
import org.tcpferry.protocol.Message;
import org.tcpferry.protocol.MessageCodec;

/**
 * A stand-in for the host manager's control socket, built on the protocol module: a unix socket
 * that answers Hello with HelloReply and hands every other request to an {@link Answer}, and
 * records each frame it received (decoded) for the test to inspect.
 */
final class FakeControlServer implements AutoCloseable {
    /** How the server answers one request. */
    @FunctionalInterface
    interface Answer {
        void answer(Received request, OutputStream out) throws IOException, InterruptedException;

        /** HelloReply to Hello, then ControlReply(exitCode, json) to the command. */
        static Answer reply(int exitCode, String json) {
            return (request, out) -> send(out, request.requestId(), new ControlReply(exitCode, json));
        }

        /** Sends {@code message} as the reply to the command. */
        static Answer with(Message message) {
            return (request, out) -> send(out, request.requestId(), message);
        }

        /** Sends {@code bytes} instead of any reply. */
        static Answer raw(byte[] bytes) {
            return (request, out) -> {
                out.write(bytes);
                out.flush();
            };
        }

        /** Waits {@code millis}, then answers as {@code then} does. */
        static Answer after(long millis, Answer then) {
            return (request, out) -> {
                Thread.sleep(millis);
                then.answer(request, out);
            };
        }
    }

    /** One frame the server read, with its decoded message. */
    record Received(int requestId, Message message) {}

    private final Path path;
    private final ServerSocketChannel server;
    private final Answer helloAnswer;
    private final Answer commandAnswer;
    private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    private final List<SocketChannel> clients = new CopyOnWriteArrayList<>();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    /** Failures of the server itself (not of the hook): checked by {@link #close}. */
    private final List<Throwable> failures = new CopyOnWriteArrayList<>();

    private FakeControlServer(Path path, ServerSocketChannel server, Answer helloAnswer, Answer commandAnswer) {
        this.path = path;
        this.server = server;
        this.helloAnswer = helloAnswer;
        this.commandAnswer = commandAnswer;
    }

    /** Listens on {@code path}, answering Hello normally and the command with {@code commandAnswer}. */
    static FakeControlServer start(Path path, Answer commandAnswer) throws IOException {
        return start(path, (request, out) -> send(out, request.requestId(), new HelloReply("fake-host", Frames.VERSION)),
                commandAnswer);
    }

    static FakeControlServer start(Path path, Answer helloAnswer, Answer commandAnswer) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        FakeControlServer fake = new FakeControlServer(path, server, helloAnswer, commandAnswer);
        fake.spawn("fake-control-accept", fake::acceptLoop);
        return fake;
    }

    /** The next frame received, waiting at most a second (null if none came). */
    Received next() throws InterruptedException {
        return received.poll(1, TimeUnit.SECONDS);
    }

    /** Everything received so far that was not taken with {@link #next}. */
    List<Received> drain() {
        List<Received> all = new ArrayList<>();
        received.drainTo(all);
        return all;
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            try {
                SocketChannel client = server.accept();
                clients.add(client);
                spawn("fake-control-client", () -> serve(client));
            } catch (ClosedChannelException e) {
                return; // closed by close()
            } catch (IOException e) {
                failures.add(e);
                return;
            }
        }
    }

    private void serve(SocketChannel client) {
        try (client; InputStream in = Channels.newInputStream(client); OutputStream out = Channels.newOutputStream(client)) {
            Frame frame;
            while ((frame = FrameStreams.read(in)) != null) {
                Received request = new Received(frame.requestId(), MessageCodec.decode(frame));
                received.add(request);
                (request.message() instanceof Hello ? helloAnswer : commandAnswer).answer(request, out);
            }
        } catch (IOException e) {
            // The hook gave up and closed (a slow answer), or closed after its reply: expected.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            failures.add(e);
        }
    }

    static void send(OutputStream out, int requestId, Message message) throws IOException {
        FrameStreams.write(out, MessageCodec.encode(requestId, message));
        out.flush();
    }

    private void spawn(String name, Runnable body) {
        Thread thread = new Thread(body, name);
        thread.setDaemon(true);
        threads.add(thread);
        thread.start();
    }

    @Override
    public void close() throws IOException, InterruptedException {
        server.close();
        for (SocketChannel client : clients) {
            client.close();
        }
        for (Thread thread : threads) {
            thread.interrupt();
            thread.join(2000);
        }
        Files.deleteIfExists(path);
        if (!failures.isEmpty()) {
            AssertionError error = new AssertionError("the fake control server failed");
            failures.forEach(error::addSuppressed);
            throw error;
        }
    }
}
