package org.tcpferry.protocol;

import java.util.Objects;

/**
 * A refusal, sent with the requestId of the request it refuses (0 when there was none). A host that
 * relays a request to the holding host passes the holder's refusal on with the same code and its
 * message prefixed {@code [from NODE] } ({@link #relayedFrom}), so the agent knows the holder itself
 * said it.
 */
public record ErrorReply(ErrorCode code, String message) implements Message {
    private static final String RELAYED_PREFIX = "[from ";

    public ErrorReply {
        Objects.requireNonNull(code, "code");
        Objects.requireNonNull(message, "message");
    }

    /** {@code reply} as a relaying host passes it on from {@code node}. */
    public static ErrorReply relayed(String node, ErrorReply reply) {
        return new ErrorReply(reply.code, RELAYED_PREFIX + node + "] " + reply.message);
    }

    /** The holder this refusal was relayed from, or null when the replying host said it itself. */
    public String relayedFrom() {
        if (!message.startsWith(RELAYED_PREFIX)) {
            return null;
        }
        int end = message.indexOf("] ", RELAYED_PREFIX.length());
        return end < 0 ? null : message.substring(RELAYED_PREFIX.length(), end);
    }

    @Override
    public MessageType type() {
        return MessageType.ERROR_REPLY;
    }
}
