package org.tcpferry.protocol;

/**
 * Why a peer refused a frame or a request. The numeric {@link #code} travels on the wire (u16) and
 * never changes meaning; new codes are only ever added.
 */
public enum ErrorCode {
    /** A frame or payload that does not parse: bad magic, truncated field, invalid UTF-8, trailing bytes. */
    MALFORMED(1),
    /** The frame's version byte is not one this peer speaks. */
    UNSUPPORTED_VERSION(2),
    /** The frame's type byte names no known message. */
    UNKNOWN_TYPE(3),
    /** The declared payload length exceeds the receiver's limit. */
    TOO_LARGE(4),
    /** A well-formed message that is not allowed at this point of the conversation. */
    UNEXPECTED(5),
    /** The flow belongs to another domain or connection. */
    NOT_OWNER(6),
    /** The token does not match the one issued with HandoffAccepted. */
    BAD_TOKEN(7),
    /** The host holds as many flows or bytes as it may. */
    QUOTA_FULL(8),
    /** No held flow has this key. */
    UNKNOWN_FLOW(9),
    /** The domain is not known to the host. */
    UNKNOWN_DOMAIN(10),
    /** Too many requests in too short a time. */
    RATE_LIMITED(11),
    /** The peer is in the middle of another operation on the same object; retry later. */
    BUSY(12),
    /** The request is understood and valid but refused by policy. */
    REFUSED(13),
    /** The peer failed for a reason of its own. */
    INTERNAL(14),
    /**
     * The host that holds the copy cannot be reached from here now (no {@code peers} entry, or the
     * connection failed); the copy keeps holding there; retry.
     */
    UNREACHABLE(15);

    /** The value on the wire. */
    public final int code;

    ErrorCode(int code) {
        this.code = code;
    }

    /** The error code with this wire value, or null when this version does not know it. */
    public static ErrorCode ofCode(int code) {
        for (ErrorCode c : values()) {
            if (c.code == code) {
                return c;
            }
        }
        return null;
    }
}
