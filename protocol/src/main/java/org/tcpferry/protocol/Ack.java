package org.tcpferry.protocol;

/** A request succeeded and there is nothing else to say. */
public record Ack() implements Message {
    @Override
    public MessageType type() {
        return MessageType.ACK;
    }
}
