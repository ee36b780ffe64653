package org.tcpferry.protocol;

import java.util.Arrays;
import java.util.Objects;

/**
 * One unit on the wire: {@code 'T' 'F' | version u8 | type u8 | requestId u32 | payloadLength u32 | payload},
 * big-endian. The payload is a message body that {@link MessageCodec} reads.
 *
 * @param requestId chosen by the sender of a request and echoed in its reply, so replies can be
 *     matched; unsigned 32-bit value held in an int
 */
public record Frame(int version, MessageType type, int requestId, byte[] payload) {

    public Frame {
        if (version < 0 || version > 0xff) {
            throw new IllegalArgumentException("version does not fit in a byte: " + version);
        }
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(payload, "payload");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Frame f && version == f.version && type == f.type && requestId == f.requestId
                && Arrays.equals(payload, f.payload);
    }

    @Override
    public int hashCode() {
        return Objects.hash(version, type, requestId, Arrays.hashCode(payload));
    }

    @Override
    public String toString() {
        return "Frame[v" + version + " " + type + " #" + Integer.toUnsignedString(requestId) + " " + payload.length + "B]";
    }
}
