package org.tcpferry.host.cli;

import java.io.IOException;
import java.nio.file.Path;
import org.tcpferry.host.config.ConfigLoader;
import org.tcpferry.host.config.HostConfig;
import picocli.CommandLine.Option;

/** {@code --socket} / {@code --config}: where the daemon's control socket is. */
final class SocketOption {
    @Option(names = {"-s", "--socket"}, paramLabel = "PATH",
            description = "control socket (default: the config's controlSocket, else " + HostConfig.DEFAULT_CONTROL_SOCKET + ")")
    Path socket;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "read the control socket path from this config")
    Path config;

    /** The socket path; an invalid config is an IllegalArgumentException naming it. */
    Path path() {
        if (socket != null) {
            return socket;
        }
        if (config == null) {
            return Path.of(HostConfig.DEFAULT_CONTROL_SOCKET);
        }
        try {
            return Path.of(ConfigLoader.load(config).controlSocket());
        } catch (IOException e) {
            throw new IllegalArgumentException("invalid configuration " + config + ": " + e.getMessage(), e);
        }
    }
}
