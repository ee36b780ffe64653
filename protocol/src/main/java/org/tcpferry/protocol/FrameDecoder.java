package org.tcpferry.protocol;

import java.nio.ByteBuffer;

/**
 * Cuts frames out of a byte stream for an event loop: feed it the receive buffer, take frames out
 * until it returns null, read more, repeat.
 *
 * <p>It holds no state between calls, so after a {@link ProtocolException} it is ready for the
 * next connection (the failed one should be answered with {@link ErrorReply} and closed: after a
 * framing error the stream position is lost).
 */
public final class FrameDecoder {
    private final int maxPayload;

    /** @param maxPayload largest payload accepted; larger declared lengths fail with TOO_LARGE */
    public FrameDecoder(int maxPayload) {
        Frames.checkMaxPayload(maxPayload);
        this.maxPayload = maxPayload;
    }

    public FrameDecoder() {
        this(Frames.DEFAULT_MAX_PAYLOAD);
    }

    /**
     * The next complete frame, consuming its bytes from {@code in}; or null when {@code in} does
     * not yet hold a whole frame, consuming nothing.
     *
     * @throws ProtocolException for bad magic (MALFORMED), another version (UNSUPPORTED_VERSION),
     *     an unknown type (UNKNOWN_TYPE) or a declared length above the limit (TOO_LARGE), as soon
     *     as the offending header byte is in the buffer; {@code in}'s position is left unchanged
     */
    public Frame tryDecode(ByteBuffer in) throws ProtocolException {
        int start = in.position();
        byte[] header = new byte[Frames.HEADER_SIZE];
        int available = Math.min(in.remaining(), Frames.HEADER_SIZE);
        in.get(start, header, 0, available);
        long length = Frames.checkHeader(header, available, maxPayload);
        if (length < 0 || in.remaining() - Frames.HEADER_SIZE < length) {
            return null;
        }
        byte[] payload = new byte[(int) length];
        in.get(start + Frames.HEADER_SIZE, payload);
        in.position(start + Frames.HEADER_SIZE + (int) length);
        return Frames.assemble(header, payload);
    }

    public int maxPayload() {
        return maxPayload;
    }
}
