package org.tcpferry.protocol;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** Blocking frame I/O for the guest agent and the CLI, with the same checks as {@link FrameDecoder}. */
public final class FrameStreams {
    private FrameStreams() {}

    /** {@link #read(InputStream, int)} with {@link Frames#DEFAULT_MAX_PAYLOAD}. */
    public static Frame read(InputStream in) throws IOException {
        return read(in, Frames.DEFAULT_MAX_PAYLOAD);
    }

    /**
     * Blocks for the next frame.
     *
     * @return the frame, or null when the stream ended cleanly between frames
     * @throws ProtocolException for a bad header (as {@link FrameDecoder#tryDecode}) or a stream
     *     that ends inside a frame (MALFORMED)
     * @throws IOException when reading fails
     */
    public static Frame read(InputStream in, int maxPayload) throws IOException {
        Frames.checkMaxPayload(maxPayload);
        byte[] header = new byte[Frames.HEADER_SIZE];
        int got = 0;
        long length = -1;
        // The checks run on every partial header, so a wrong magic or version is reported without
        // waiting for a full header that a confused peer may never send.
        while (length < 0) {
            int n = in.read(header, got, Frames.HEADER_SIZE - got);
            if (n < 0) {
                if (got == 0) {
                    return null;
                }
                throw endedInside(got, Frames.HEADER_SIZE);
            }
            got += n;
            length = Frames.checkHeader(header, got, maxPayload);
        }
        // readNBytes grows its buffer as data arrives: a declared length alone allocates nothing big.
        byte[] payload = in.readNBytes((int) length);
        if (payload.length < length) {
            throw endedInside(Frames.HEADER_SIZE + payload.length, Frames.HEADER_SIZE + length);
        }
        return Frames.assemble(header, payload);
    }

    /** Writes and flushes one frame. */
    public static void write(OutputStream out, Frame frame) throws IOException {
        out.write(Frames.toBytes(frame));
        out.flush();
    }

    private static ProtocolException endedInside(long got, long wanted) {
        return new ProtocolException(ErrorCode.MALFORMED, "stream ended inside a frame after " + got + " of " + wanted + " bytes");
    }
}
