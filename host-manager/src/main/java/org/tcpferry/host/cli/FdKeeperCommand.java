package org.tcpferry.host.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tcpferry.host.config.HostConfig;
import org.tcpferry.host.keeper.FdKeeper;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tcpferry fd-keeper}: keeps held copies' descriptors while the host manager restarts. */
@Command(name = "fd-keeper", mixinStandardHelpOptions = true,
        description = "Keep the host manager's copy sockets alive across its restart (hostd starts it when needed).")
final class FdKeeperCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(FdKeeperCommand.class);

    @Option(names = "--socket", paramLabel = "PATH", description = "unix socket to listen on (default: ${DEFAULT-VALUE})")
    private Path socket = Path.of(HostConfig.DEFAULT_FD_KEEPER_SOCKET);

    @Override
    public Integer call() {
        try {
            FdKeeper.run(socket);
            return TcpferryCommand.OK;
        } catch (IOException | RuntimeException e) {
            log.error("event=keeper_failed socket={} error=\"{}\"", socket, e.getMessage(), e);
            return TcpferryCommand.DAEMON_FAILED;
        }
    }
}
