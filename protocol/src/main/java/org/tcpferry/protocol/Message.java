package org.tcpferry.protocol;

/**
 * A message between the guest agent, the host manager and the CLI. Each record is one
 * {@link MessageType}; {@link MessageCodec} turns it into a {@link Frame} and back.
 * Which side sends what, and in which order, is described in {@code docs/protocol.md}.
 */
public sealed interface Message
        permits Hello, HelloReply, ErrorReply, Ack,
                HandoffOrder, HandoffRequest, HandoffAccepted, HandoffComplete,
                HandoffQuery, ReleaseRequest, ReleaseGranted, ReleaseConfirm, ReleaseAbort, ReclaimOrder,
                StatusRequest, StatusReply, ControlCommand, ControlReply, Progress {

    /** The frame type that carries this message. */
    MessageType type();
}
