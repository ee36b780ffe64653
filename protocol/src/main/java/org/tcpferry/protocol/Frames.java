package org.tcpferry.protocol;

import java.nio.ByteBuffer;

/**
 * The frame header layout and its checks, shared by the incremental {@link FrameDecoder} and the
 * blocking {@link FrameStreams}.
 *
 * <pre>
 * offset size field
 *   0     2   magic 'T' 'F'
 *   2     1   version (1)
 *   3     1   type (MessageType code)
 *   4     4   requestId
 *   8     4   payloadLength (unsigned)
 *  12     n   payload
 * </pre>
 */
public final class Frames {
    /** The protocol version this code speaks. */
    public static final int VERSION = 1;
    public static final int HEADER_SIZE = 12;
    /** Largest payload accepted unless a smaller or larger limit is configured: 64 MiB. */
    public static final int DEFAULT_MAX_PAYLOAD = 64 * 1024 * 1024;

    static final byte MAGIC_0 = 'T';
    static final byte MAGIC_1 = 'F';

    private Frames() {}

    /** The header followed by the payload, as it goes on the wire. */
    public static byte[] toBytes(Frame frame) {
        if (frame.payload().length > Integer.MAX_VALUE - 8 - HEADER_SIZE) {
            throw new IllegalArgumentException("payload too large for one frame: " + frame.payload().length + " bytes");
        }
        byte[] out = new byte[HEADER_SIZE + frame.payload().length];
        ByteBuffer.wrap(out)
                .put(MAGIC_0)
                .put(MAGIC_1)
                .put((byte) frame.version())
                .put((byte) frame.type().code)
                .putInt(frame.requestId())
                .putInt(frame.payload().length)
                .put(frame.payload());
        return out;
    }

    /**
     * Checks the header bytes that have arrived so far ({@code available} of them, from
     * {@code header[0]}), so that garbage is refused as early as it is visible and an oversized
     * length before any payload buffer exists. Returns the payload length once the header is
     * complete, or -1 while it is not.
     */
    static long checkHeader(byte[] header, int available, int maxPayload) throws ProtocolException {
        if (available >= 1 && header[0] != MAGIC_0 || available >= 2 && header[1] != MAGIC_1) {
            throw new ProtocolException(ErrorCode.MALFORMED, "bad magic: not a tcpferry frame");
        }
        if (available >= 3 && (header[2] & 0xff) != VERSION) {
            throw new ProtocolException(ErrorCode.UNSUPPORTED_VERSION,
                    "peer sent protocol version " + (header[2] & 0xff) + ", this side speaks version " + VERSION);
        }
        if (available >= 4 && MessageType.ofCode(header[3] & 0xff) == null) {
            throw new ProtocolException(ErrorCode.UNKNOWN_TYPE, "unknown message type 0x" + Integer.toHexString(header[3] & 0xff));
        }
        if (available < HEADER_SIZE) {
            return -1;
        }
        long length = ByteBuffer.wrap(header, 8, 4).getInt() & 0xffffffffL;
        if (length > maxPayload) {
            throw new ProtocolException(ErrorCode.TOO_LARGE,
                    "payload of " + length + " bytes exceeds the limit of " + maxPayload);
        }
        return length;
    }

    /** The header's fields and the payload as a frame; call only after {@link #checkHeader} passed. */
    static Frame assemble(byte[] header, byte[] payload) {
        ByteBuffer h = ByteBuffer.wrap(header);
        return new Frame(h.get(2) & 0xff, MessageType.ofCode(h.get(3) & 0xff), h.getInt(4), payload);
    }

    static void checkMaxPayload(int maxPayload) {
        if (maxPayload < 0) {
            throw new IllegalArgumentException("maxPayload must not be negative: " + maxPayload);
        }
    }
}
