package org.tcpferry.host.keeper;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.Closeable;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tcpferry.host.hold.CopyKeeper;
import org.tcpferry.host.hold.KeptCopy;
import org.tcpferry.protocol.FlowKey;
import org.tcpferry.sys.FdChannel;
import org.tcpferry.sys.SyscallException;

/**
 * The host manager's side of its {@link FdKeeper}: sends each copy's descriptor and record there,
 * and at start takes back what a host manager before it left. A DROP waits for the keeper's
 * answer, so that it is done before the copy's last close (which decides what the peer sees).
 * Thread-safe; the copy loops of all namespaces share it.
 */
public final class KeeperClient implements CopyKeeper, Closeable {
    private static final Logger log = LoggerFactory.getLogger(KeeperClient.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long SPAWN_WAIT_MILLIS = 20_000;

    private final Path socket;
    /** Replaced when the keeper died and a new one was started ({@link #reconnectIfLost}). */
    private FdChannel channel;
    private boolean broken;

    private KeeperClient(Path socket, FdChannel channel) {
        this.socket = socket;
        this.channel = channel;
    }

    /** A copy a keeper kept: its record and this process's new descriptor of it. */
    public record Kept(KeptCopy record, int fd) {
    }

    /**
     * Connects to the keeper on {@code socket}, starting one first ({@code tcpferry fd-keeper},
     * a process of its own session, so that it outlives this one) if none listens there.
     */
    public static KeeperClient connectOrStart(Path socket) throws IOException {
        return new KeeperClient(socket, connectOrStartChannel(socket));
    }

    private static FdChannel connectOrStartChannel(Path socket) throws IOException {
        try {
            return FdChannel.connect(socket);
        } catch (SyscallException absent) {
            log.info("event=keeper_starting socket={} why=\"{}\"", socket, absent.getMessage());
        }
        start(socket);
        long deadline = System.currentTimeMillis() + SPAWN_WAIT_MILLIS;
        while (true) {
            try {
                return FdChannel.connect(socket);
            } catch (SyscallException notYet) {
                if (System.currentTimeMillis() > deadline) {
                    throw new IOException("the fd keeper started for " + socket + " does not listen after "
                            + SPAWN_WAIT_MILLIS + " ms (see " + logFile(socket) + ")", notYet);
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while waiting for the fd keeper", e);
                }
            }
        }
    }

    /** The same java, classpath and CLI as this process, in a new session (setsid). */
    private static void start(Path socket) throws IOException {
        Files.createDirectories(socket.toAbsolutePath().getParent());
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>();
        if (new File("/usr/bin/setsid").canExecute()) {
            command.add("/usr/bin/setsid");
        }
        command.addAll(List.of(java, "-cp", System.getProperty("java.class.path"), "org.tcpferry.host.cli.TcpferryCommand",
                "fd-keeper", "--socket", socket.toString()));
        new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile(socket).toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
    }

    static Path logFile(Path socket) {
        return socket.resolveSibling(socket.getFileName() + ".log");
    }

    private static final int LIST_TIMEOUT_MILLIS = 10_000;

    /** Everything the keeper keeps, each with a new descriptor this process owns. */
    public synchronized List<Kept> list() throws IOException {
        channel.send(KeeperWire.of(KeeperWire.LIST).encode());
        List<Kept> kept = new ArrayList<>();
        while (true) {
            // The keeper serves one host manager at a time: a second one would wait here forever.
            if (!channel.awaitReadable(LIST_TIMEOUT_MILLIS)) {
                throw new IOException("fd keeper " + socket + " did not answer within " + LIST_TIMEOUT_MILLIS
                        + " ms; another host manager may be using it (each needs its own fdKeeperSocket)");
            }
            FdChannel.Message message = channel.receive(KeeperWire.MAX_MESSAGE);
            if (message == null) {
                throw new IOException("fd keeper " + socket + " closed the connection while listing");
            }
            KeeperWire reply = KeeperWire.decode(message.payload());
            if (reply.verb().equals(KeeperWire.END)) {
                return kept;
            }
            if (!reply.verb().equals(KeeperWire.ENTRY) || message.fds().length != 1) {
                throw new IOException("fd keeper " + socket + " answered LIST with " + reply.verb() + " and "
                        + message.fds().length + " descriptors");
            }
            kept.add(new Kept(JSON.readValue(reply.record(), KeptCopy.class), message.fds()[0]));
        }
    }

    /**
     * Not answered: once sendmsg returns, the message and its descriptor sit in the keeper's
     * receive queue, which outlives this process, and the keeper handles messages in order, so a
     * later DROP (which is answered) finds it done. Not waiting keeps a cross-process round trip
     * off every restore.
     */
    @Override
    public synchronized void keep(FlowKey flow, KeptCopy record, int copyFd) {
        try {
            if (broken) {
                throw new IOException("connection to the fd keeper was lost before");
            }
            channel.send(new KeeperWire(KeeperWire.KEEP, flow.toString(), JSON.writeValueAsBytes(record)).encode(), copyFd);
        } catch (IOException | RuntimeException e) {
            lost("keep " + flow, e);
        }
    }

    @Override
    public synchronized void drop(FlowKey flow) {
        try {
            ask(new KeeperWire(KeeperWire.DROP, flow.toString(), new byte[0]));
        } catch (IOException | RuntimeException e) {
            lost("drop " + flow, e);
        }
    }

    private void ask(KeeperWire request) throws IOException {
        if (broken) {
            throw new IOException("connection to the fd keeper was lost before");
        }
        channel.send(request.encode());
        FdChannel.Message reply = channel.receive(KeeperWire.MAX_MESSAGE);
        if (reply == null || !KeeperWire.decode(reply.payload()).verb().equals(KeeperWire.OK)) {
            throw new IOException("fd keeper " + socket + " did not answer OK");
        }
    }

    /** Holds go on without a keeper; what is lost is their survival of a host manager restart. */
    private void lost(String what, Exception e) {
        if (!broken) {
            log.error("event=keeper_lost socket={} call=\"{}\" error=\"{}\" consequence=\"held connections will not survive a restart of the host manager\"",
                    socket, what, e.getMessage());
        }
        broken = true;
    }

    /**
     * If the keeper is gone (killed: its end of the connection closed, or a call to it failed),
     * connects to a keeper on the same socket, starting one if none listens. The new keeper has
     * nothing: the caller must deposit every copy again, which is what {@code true} says. While
     * there is no keeper the holds go on; only their survival of a host manager restart is lost.
     */
    public synchronized boolean reconnectIfLost() throws IOException {
        if (!lostNow()) {
            return false;
        }
        FdChannel replacement = connectOrStartChannel(socket);
        try {
            channel.close();
        } catch (IOException e) {
            log.warn("event=keeper_old_channel_close_failed error=\"{}\"", e.getMessage());
        }
        channel = replacement;
        broken = false;
        log.warn("event=keeper_reconnected socket={} consequence=\"every copy is deposited again\"", socket);
        return true;
    }

    /** The keeper never speaks unasked, so between calls a readable connection means it closed. */
    private boolean lostNow() {
        if (broken) {
            return true;
        }
        try {
            if (channel.awaitReadable(0)) {
                FdChannel.Message unasked = channel.receive(KeeperWire.MAX_MESSAGE);
                if (unasked != null) {
                    for (int fd : unasked.fds()) {
                        org.tcpferry.sys.Fds.close(fd, "descriptor of an unasked keeper message");
                    }
                }
                lost("watch", new IOException(unasked == null ? "the fd keeper closed the connection (it died)"
                        : "the fd keeper sent a message nobody asked for"));
            }
        } catch (IOException e) {
            lost("watch", e);
        }
        return broken;
    }

    /** Whether the keeper still answers. */
    public synchronized boolean connected() {
        return !broken;
    }

    @Override
    public synchronized void close() throws IOException {
        channel.close();
    }
}
