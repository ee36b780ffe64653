package org.tcpferry.host.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tcpferry.host.HostManager;
import org.tcpferry.host.config.ConfigLoader;
import org.tcpferry.host.config.HostConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tcpferry hostd}: runs the host manager until SIGTERM or SIGINT, then stops it
 * ({@link HostManager#stop}): connections still held stay with the fd keeper for the next start,
 * unless {@code --drop-on-stop}.
 */
@Command(name = "hostd", mixinStandardHelpOptions = true,
        description = "Run the host manager daemon: hold guests' connections while they cannot.")
final class HostdCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(HostdCommand.class);

    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE",
            description = "configuration file, .json or .yaml (see docs/host-manager.md)")
    private Path config;

    @Option(names = "--drop-on-stop",
            description = "on SIGTERM drop every held connection and remove all steering, even with an fd keeper"
                    + " (default: leave held connections with the fd keeper for the next start)")
    private boolean dropOnStop;

    @Override
    public Integer call() {
        HostConfig loaded;
        try {
            loaded = ConfigLoader.load(config);
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("tcpferry hostd: invalid configuration " + config + ": " + e.getMessage());
            return TcpferryCommand.BAD_CONFIG;
        }
        HostManager manager;
        try {
            manager = HostManager.start(loaded);
        } catch (IOException | RuntimeException e) {
            log.error("event=start_failed error=\"{}\"", e.getMessage(), e);
            System.err.println("tcpferry hostd: cannot start: " + e.getMessage());
            return TcpferryCommand.DAEMON_FAILED;
        }
        Thread hook = new Thread(() -> {
            int exit = TcpferryCommand.OK;
            try {
                manager.stop(dropOnStop);
            } catch (IOException | RuntimeException e) {
                log.error("event=stop_failed error=\"{}\"", e.getMessage(), e);
                exit = TcpferryCommand.DAEMON_FAILED;
            }
            // A JVM ended by a signal exits 128+signal; halting here makes a clean stop exit 0
            // (and a failed one 4), as documented. Nothing else of ours runs at shutdown.
            Runtime.getRuntime().halt(exit);
        }, "shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            new CountDownLatch(1).await(); // until SIGTERM or SIGINT runs the hook
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return TcpferryCommand.OK;
    }
}
