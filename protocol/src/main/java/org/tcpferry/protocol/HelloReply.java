package org.tcpferry.protocol;

import java.util.Objects;

/** The answer to {@link Hello}: who answered and the protocol version it speaks. */
public record HelloReply(String nodeName, int protocolVersion) implements Message {
    public HelloReply {
        Objects.requireNonNull(nodeName, "nodeName");
    }

    @Override
    public MessageType type() {
        return MessageType.HELLO_REPLY;
    }
}
