package org.tcpferry.protocol;

import java.util.Objects;

/** A refusal, sent with the requestId of the request it refuses (0 when there was none). */
public record ErrorReply(ErrorCode code, String message) implements Message {
    public ErrorReply {
        Objects.requireNonNull(code, "code");
        Objects.requireNonNull(message, "message");
    }

    @Override
    public MessageType type() {
        return MessageType.ERROR_REPLY;
    }
}
