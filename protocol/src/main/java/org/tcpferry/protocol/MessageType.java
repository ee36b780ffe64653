package org.tcpferry.protocol;

/**
 * The type byte of a frame. Codes are grouped by conversation (0x0_ session, 0x1_ handoff,
 * 0x2_ release, 0x3_ control) and never reused; new types are only ever added.
 */
public enum MessageType {
    HELLO(0x01),
    HELLO_REPLY(0x02),
    ERROR_REPLY(0x03),
    ACK(0x04),
    HANDOFF_ORDER(0x10),
    HANDOFF_REQUEST(0x11),
    HANDOFF_ACCEPTED(0x12),
    HANDOFF_COMPLETE(0x13),
    HANDOFF_QUERY(0x14),
    RELEASE_REQUEST(0x20),
    RELEASE_GRANTED(0x21),
    RELEASE_CONFIRM(0x22),
    RELEASE_ABORT(0x23),
    RECLAIM_ORDER(0x24),
    STATUS_REQUEST(0x30),
    STATUS_REPLY(0x31),
    CONTROL_COMMAND(0x32),
    CONTROL_REPLY(0x33),
    PROGRESS(0x34);

    /** The value of the frame's type byte. */
    public final int code;

    private static final MessageType[] BY_CODE = new MessageType[256];

    static {
        for (MessageType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    MessageType(int code) {
        this.code = code;
    }

    /** The type with this code, or null when this version does not know it. */
    public static MessageType ofCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
