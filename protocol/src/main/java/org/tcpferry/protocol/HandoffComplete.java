package org.tcpferry.protocol;

/** Agent to host: the handoff order is done; {@code count} connections were sent. */
public record HandoffComplete(int count) implements Message {
    @Override
    public MessageType type() {
        return MessageType.HANDOFF_COMPLETE;
    }
}
