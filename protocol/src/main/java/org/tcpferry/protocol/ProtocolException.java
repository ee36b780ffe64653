package org.tcpferry.protocol;

import java.io.IOException;
import java.util.Objects;

/**
 * A peer sent something this side cannot accept. The {@link #code()} is what to put in the
 * {@link ErrorReply} before closing the connection; decoders throw nothing else for bad input.
 */
public class ProtocolException extends IOException {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    public ProtocolException(ErrorCode code, String message) {
        super(message);
        this.code = Objects.requireNonNull(code, "code");
    }

    public ProtocolException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = Objects.requireNonNull(code, "code");
    }

    /** The error code to report to the peer. */
    public ErrorCode code() {
        return code;
    }

    /** The reply that tells the peer what went wrong. */
    public ErrorReply toErrorReply() {
        return new ErrorReply(code, getMessage() == null ? "" : getMessage());
    }

    @Override
    public String toString() {
        return "ProtocolException[" + code + "]: " + getMessage();
    }
}
