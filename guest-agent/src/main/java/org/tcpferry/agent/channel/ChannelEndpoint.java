package org.tcpferry.agent.channel;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the host manager reaches the agent, and the loop that keeps it reachable:
 * <ul>
 * <li>a path (default {@code /dev/virtio-ports/org.tcpferry.agent.0}): a virtio-serial character
 *     device, opened read/write once; a host disconnecting (the port reads end of file) ends a session,
 *     not the port, and the agent waits on the same descriptor for the next host (see
 *     {@link VirtioPort}); reopened only when it fails;
 * <li>{@code unix:/path}: a unix socket the agent listens on (the host connects);
 * <li>{@code tcp:host:port}: a TCP address the agent listens on (the host connects).
 * </ul>
 * One session at a time: the next one is accepted (or awaited on the port) when it ends.
 */
public final class ChannelEndpoint implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(ChannelEndpoint.class);
    public static final String DEFAULT = "/dev/virtio-ports/org.tcpferry.agent.0";
    private static final long REOPEN_MILLIS = 1000;

    private final String spec;
    private volatile boolean closed;
    private volatile Closeable listening;
    private volatile Session current;

    public ChannelEndpoint(String spec) {
        this.spec = spec;
    }

    public String spec() {
        return spec;
    }

    /** Serves sessions until closed, each through {@code handler}; runs on the caller's thread. */
    public void serve(Session.Handler handler) {
        while (!closed) {
            try {
                if (spec.startsWith("unix:")) {
                    serveUnix(Path.of(spec.substring(5)), handler);
                } else if (spec.startsWith("tcp:")) {
                    serveTcp(spec.substring(4), handler);
                } else {
                    serveDevice(Path.of(spec), handler);
                }
            } catch (IOException e) {
                if (!closed) {
                    log.warn("event=channel_unavailable channel={} error=\"{}\" retry_ms={}", spec, e.getMessage(), REOPEN_MILLIS);
                    sleep(REOPEN_MILLIS);
                }
            }
        }
    }

    private void serveUnix(Path path, Session.Handler handler) throws IOException {
        Files.deleteIfExists(path); // a socket file left by an agent that died
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(path));
            listening = server;
            log.info("event=listening channel={}", spec);
            while (!closed) {
                SocketChannel ch = server.accept();
                run(new Session(SocketChannelStreams.input(ch), SocketChannelStreams.output(ch), ch, spec), handler);
            }
        } finally {
            Files.deleteIfExists(path);
        }
    }

    private void serveTcp(String hostPort, Session.Handler handler) throws IOException {
        int colon = hostPort.lastIndexOf(':');
        String host = hostPort.substring(0, colon).replace("[", "").replace("]", "");
        int port = Integer.parseInt(hostPort.substring(colon + 1));
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(host.isEmpty() ? new InetSocketAddress(port) : new InetSocketAddress(host, port));
            listening = server;
            log.info("event=listening channel={}", spec);
            while (!closed) {
                Socket s = server.accept();
                s.setTcpNoDelay(true);
                run(new Session(s.getInputStream(), s.getOutputStream(), s, spec), handler);
            }
        }
    }

    /**
     * A virtio-serial port (see {@link VirtioPort}): opened once; each host connection is a session on
     * the same descriptor. Between sessions the agent waits for a host without reopening the port.
     */
    private void serveDevice(Path device, Session.Handler handler) throws IOException {
        try (VirtioPort port = VirtioPort.open(device)) {
            listening = port;
            log.info("event=opened channel={}", spec);
            boolean resync = false;
            while (!closed) {
                Session session = new Session(port.awaitHost(resync), port.output(), () -> { }, spec);
                run(session, handler);
                resync = session.brokeInsideStream();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for a host on " + spec, e);
        }
    }

    private void run(Session session, Session.Handler handler) {
        current = session;
        log.info("event=channel_open channel={}", spec);
        session.readLoop(handler);
        current = null;
    }

    /** The session now open, or null. */
    public Session current() {
        return current;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        Session s = current;
        if (s != null) {
            s.close();
        }
        Closeable l = listening;
        if (l != null) {
            l.close();
        }
    }
}
