package org.tcpferry.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class FrameStreamsTest {

    @Test
    void framesWrittenAreReadBackAndCleanEndIsNull() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        FrameStreams.write(out, MessageCodec.encode(1, new Hello(Hello.CONTROL, "cli", "")));
        FrameStreams.write(out, MessageCodec.encode(2, new StatusRequest()));
        InputStream in = new ByteArrayInputStream(out.toByteArray());

        assertThat(MessageCodec.decode(FrameStreams.read(in))).isEqualTo(new Hello(Hello.CONTROL, "cli", ""));
        assertThat(FrameStreams.read(in).requestId()).isEqualTo(2);
        assertThat(FrameStreams.read(in)).isNull();
    }

    @Test
    void aStreamEndingInsideAFrameIsMalformed() {
        byte[] wire = MessageCodec.toBytes(1, new StatusReply("{\"a\":1}"));
        for (int cut = 1; cut < wire.length; cut++) {
            InputStream in = new ByteArrayInputStream(Arrays.copyOf(wire, cut));
            assertThatThrownBy(() -> FrameStreams.read(in))
                    .isInstanceOf(ProtocolException.class).hasMessageContaining("stream ended inside a frame")
                    .extracting(e -> ((ProtocolException) e).code()).isEqualTo(ErrorCode.MALFORMED);
        }
    }

    @Test
    void aDeclaredLengthAboveTheLimitFailsBeforeAnyPayloadArrives() {
        byte[] header = ByteBuffer.allocate(12).put(new byte[] {'T', 'F', 1, 0x31}).putInt(1)
                .putInt(Integer.MAX_VALUE).array();

        assertThatThrownBy(() -> FrameStreams.read(new ByteArrayInputStream(header)))
                .isInstanceOf(ProtocolException.class)
                .extracting(e -> ((ProtocolException) e).code()).isEqualTo(ErrorCode.TOO_LARGE);
    }

    @Test
    void aDeclaredLengthWithinTheLimitButNeverSentAllocatesOnlyWhatArrives() {
        // 64 MiB declared, 5 bytes sent: the read fails on the early end, not by allocating 64 MiB first.
        byte[] wire = ByteBuffer.allocate(17).put(new byte[] {'T', 'F', 1, 0x31}).putInt(1)
                .putInt(Frames.DEFAULT_MAX_PAYLOAD).put(new byte[5]).array();

        assertThatThrownBy(() -> FrameStreams.read(new ByteArrayInputStream(wire)))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("after 17 of 67108876 bytes");
    }

    /** A version-2 peer is told in version-1 framing, as docs/protocol.md requires, before it sends more. */
    @Test
    void overASocketAnotherVersionIsReportedFromThreeBytes() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                Socket client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
                Socket accepted = server.accept()) {
            accepted.setSoTimeout(5000);
            client.setSoTimeout(5000);
            OutputStream clientOut = client.getOutputStream();
            clientOut.write(new byte[] {'T', 'F', 2});
            clientOut.flush();

            CompletableFuture<ProtocolException> refused = CompletableFuture.supplyAsync(() -> {
                try {
                    FrameStreams.read(accepted.getInputStream());
                    return null;
                } catch (ProtocolException e) {
                    return e;
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            ProtocolException e = refused.get(5, TimeUnit.SECONDS);
            assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED_VERSION);
            FrameStreams.write(accepted.getOutputStream(), MessageCodec.encode(0, e.toErrorReply()));

            Frame reply = FrameStreams.read(client.getInputStream());
            assertThat(reply.version()).isEqualTo(1);
            assertThat(MessageCodec.decode(reply)).isEqualTo(
                    new ErrorReply(ErrorCode.UNSUPPORTED_VERSION, "peer sent protocol version 2, this side speaks version 1"));
        }
    }
}
