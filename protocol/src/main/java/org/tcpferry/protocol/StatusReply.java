package org.tcpferry.protocol;

import java.util.Objects;

/** A daemon's status as a JSON document (the daemon defines the fields). */
public record StatusReply(String json) implements Message {
    public StatusReply {
        Objects.requireNonNull(json, "json");
    }

    @Override
    public MessageType type() {
        return MessageType.STATUS_REPLY;
    }
}
