package org.tcpferry.host.keeper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tcpferry.sys.FdChannel;
import org.tcpferry.sys.Fds;
import org.tcpferry.sys.LibC;

/**
 * {@code tcpferry fd-keeper}: a process apart from the host manager that keeps a duplicate of
 * every copy socket's descriptor, with the record needed to hold it again. When the host manager
 * dies (even by SIGKILL) the kernel keeps the copies alive, because this process still has them;
 * they go on acknowledging the peer until their receive buffer fills, and the steering rules stay
 * in the kernel. The restarted host manager connects, lists, and holds them again.
 *
 * <p>It serves one host manager at a time, in the order they connect. It exits when the host
 * manager it served goes away and it keeps nothing (a clean stop drops every copy first), or when
 * no host manager connects within {@link #FIRST_CLIENT_MILLIS} of its start.
 *
 * <p>It never decides anything about a copy: closing a duplicate never sends anything to the peer
 * as long as the host manager still has its own descriptor or the copy is in repair mode, which
 * the host manager's order of DROP and close guarantees.
 */
public final class FdKeeper {
    private static final Logger log = LoggerFactory.getLogger(FdKeeper.class);
    static final int FIRST_CLIENT_MILLIS = 30_000;

    private final Map<String, Kept> kept = new LinkedHashMap<>();

    private record Kept(byte[] record, int fd) {
    }

    /** Serves on {@code socket} (created 0600 in a 0700 directory) until there is nothing left to keep. */
    public static void run(Path socket) throws IOException {
        Path dir = socket.toAbsolutePath().getParent();
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        Path pidFile = pidFile(socket);
        try (FdChannel server = FdChannel.listen(socket)) {
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
            Files.writeString(pidFile, LibC.getpid() + "\n");
            log.info("event=keeper_started socket={} pid={}", socket, LibC.getpid());
            new FdKeeper().serve(server);
        } finally {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(pidFile);
        }
        log.info("event=keeper_stopped socket={}", socket);
    }

    /** Where the keeper on {@code socket} writes its process id. */
    public static Path pidFile(Path socket) {
        return socket.resolveSibling(socket.getFileName() + ".pid");
    }

    private void serve(FdChannel server) throws IOException {
        if (!server.awaitReadable(FIRST_CLIENT_MILLIS)) {
            log.info("event=keeper_unused why=\"no host manager connected within {} ms\"", FIRST_CLIENT_MILLIS);
            return;
        }
        while (true) {
            try (FdChannel client = server.accept()) {
                log.info("event=keeper_client_connected kept={}", kept.size());
                converse(client);
            } catch (IOException | RuntimeException e) {
                // Whatever a client did, what is kept stays kept: exiting would close every copy.
                log.error("event=keeper_client_failed kept={} error=\"{}\"", kept.size(), e.toString());
            }
            if (kept.isEmpty()) {
                return;
            }
            log.warn("event=keeper_client_gone kept={} why=\"host manager went away while holding; waiting for its restart\"",
                    kept.size());
        }
    }

    private void converse(FdChannel client) throws IOException {
        while (true) {
            FdChannel.Message message;
            try {
                message = client.receive(KeeperWire.MAX_MESSAGE);
            } catch (IOException e) {
                log.warn("event=keeper_client_error error=\"{}\"", e.getMessage());
                return;
            }
            if (message == null) {
                return;
            }
            KeeperWire request = KeeperWire.decode(message.payload());
            switch (request.verb()) {
                case KeeperWire.KEEP -> {
                    if (message.fds().length != 1) {
                        for (int fd : message.fds()) {
                            Fds.close(fd, "descriptor of a refused KEEP");
                        }
                        throw new IOException("KEEP " + request.key() + " carried " + message.fds().length + " descriptors");
                    }
                    Kept old = kept.put(request.key(), new Kept(request.record(), message.fds()[0]));
                    if (old != null) {
                        Fds.close(old.fd, "kept copy of " + request.key());
                    }
                }
                case KeeperWire.DROP -> {
                    Kept old = kept.remove(request.key());
                    if (old != null) {
                        Fds.close(old.fd, "kept copy of " + request.key());
                    }
                    client.send(KeeperWire.of(KeeperWire.OK).encode());
                }
                case KeeperWire.LIST -> {
                    for (Map.Entry<String, Kept> e : kept.entrySet()) {
                        client.send(new KeeperWire(KeeperWire.ENTRY, e.getKey(), e.getValue().record).encode(),
                                e.getValue().fd);
                    }
                    client.send(KeeperWire.of(KeeperWire.END).encode());
                    log.info("event=keeper_listed kept={}", kept.size());
                }
                default -> throw new IOException("unknown keeper request " + request.verb());
            }
        }
    }
}
