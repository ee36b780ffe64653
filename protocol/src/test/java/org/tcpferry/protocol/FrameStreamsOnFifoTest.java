package org.tcpferry.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Frames read from a FileInputStream on a fifo, as the guest agent reads its virtio-serial port (a
 * character device): nothing may seek. JDK 17's FileInputStream.readNBytes does, and failed here
 * with "Illegal seek".
 */
class FrameStreamsOnFifoTest {
    @Test
    void framesCrossAFifoThroughFileStreams(@TempDir Path dir) throws Exception {
        Path fifo = dir.resolve("port");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertThat(mkfifo.waitFor()).isZero();

        Message small = new Hello(Hello.AGENT, "guest", "vm1");
        Message large = new StatusReply("x".repeat(300_000)); // larger than the first read buffer
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try (FileOutputStream out = new FileOutputStream(fifo.toFile())) {
                FrameStreams.write(out, MessageCodec.encode(1, small));
                FrameStreams.write(out, MessageCodec.encode(3, large));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        try (FileInputStream in = new FileInputStream(fifo.toFile())) {
            assertThat(MessageCodec.decode(FrameStreams.read(in))).isEqualTo(small);
            assertThat(MessageCodec.decode(FrameStreams.read(in))).isEqualTo(large);
            assertThat(FrameStreams.read(in)).as("clean end of stream").isNull();
        }
        writer.get(10, TimeUnit.SECONDS);
    }
}
