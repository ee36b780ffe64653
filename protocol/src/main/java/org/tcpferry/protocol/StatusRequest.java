package org.tcpferry.protocol;

/** Ask a daemon for its status (answered by StatusReply). */
public record StatusRequest() implements Message {
    @Override
    public MessageType type() {
        return MessageType.STATUS_REQUEST;
    }
}
