package org.tcpferry.protocol;

import java.util.Objects;

/** Daemon to CLI: the command finished; {@code exitCode} is what the CLI exits with, {@code json} the result. */
public record ControlReply(int exitCode, String json) implements Message {
    public ControlReply {
        Objects.requireNonNull(json, "json");
    }

    @Override
    public MessageType type() {
        return MessageType.CONTROL_REPLY;
    }
}
