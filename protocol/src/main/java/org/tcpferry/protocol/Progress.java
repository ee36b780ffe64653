package org.tcpferry.protocol;

import java.util.Objects;

/** A long operation's progress, sent with the requestId of the request it belongs to. */
public record Progress(String phase, int done, int total, long bytes) implements Message {
    public Progress {
        Objects.requireNonNull(phase, "phase");
    }

    @Override
    public MessageType type() {
        return MessageType.PROGRESS;
    }
}
