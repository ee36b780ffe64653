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
        byte[] payload = readPayload(in, (int) length);
        return Frames.assemble(header, payload);
    }

    /** The first buffer for a payload; it doubles as bytes arrive, up to the declared length. */
    private static final int FIRST_CHUNK = 64 * 1024;

    /**
     * Reads exactly {@code length} bytes with plain read calls. The buffer grows as data arrives,
     * so a declared length alone allocates nothing big. Not InputStream.readNBytes: JDK 17's
     * FileInputStream overrides it with a size probe through lseek(2), which fails with "Illegal
     * seek" on a pipe or a character device such as the guest's virtio-serial port.
     */
    private static byte[] readPayload(InputStream in, int length) throws IOException {
        byte[] buffer = new byte[Math.min(length, FIRST_CHUNK)];
        int got = 0;
        while (got < length) {
            if (got == buffer.length) {
                buffer = java.util.Arrays.copyOf(buffer, (int) Math.min(length, 2L * buffer.length));
            }
            int n = in.read(buffer, got, buffer.length - got);
            if (n < 0) {
                throw endedInside(Frames.HEADER_SIZE + got, Frames.HEADER_SIZE + (long) length);
            }
            got += n;
        }
        return buffer;
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
