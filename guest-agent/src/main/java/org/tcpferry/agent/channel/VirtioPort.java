package org.tcpferry.agent.channel;

import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.io.SequenceInputStream;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The guest's end of a virtio-serial port, opened once and kept open for the agent's whole life.
 *
 * <p>How the port behaves (Linux drivers/char/virtio_console.c), and why the agent uses it so:
 * <ul>
 * <li>{@code read(2)} returns 0 (end of file) at once, again and again, while no process on the host
 *     has the port's chardev open ({@code port_fops_read}: no data and {@code !host_connected}), and
 *     {@code poll(2)} reports {@code POLLHUP} (with {@code POLLIN}) the whole time: nothing blocks until
 *     a host appears. So the absence of a host is probed at a growing interval (50 ms to 1 s), not
 *     spun on, and the port is not closed: the end of a host session is not the end of the port.
 * <li>Closing the port does not tell the host anything (QEMU's socket chardev stays connected), and
 *     QEMU keeps what the host writes while the port is closed in the guest; what arrived was not lost,
 *     but a close/reopen cycle per second churned for nothing.
 * <li>The port survives migration and save/restore: the guest keeps its descriptor while the host
 *     side becomes another QEMU with another host process. The guest sees the host disconnect only if
 *     the new side has no host process connected when the guest resumes; otherwise the new host's
 *     Hello simply arrives on the open session ({@link Session} then starts a new conversation).
 * <li>Only one process may have the port open (EBUSY): the descriptor is never inherited.
 * </ul>
 */
final class VirtioPort implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(VirtioPort.class);
    private static final long FIRST_PROBE_MILLIS = 50;
    private static final long LONGEST_PROBE_MILLIS = 1000;
    private static final byte MAGIC_0 = 'T';
    private static final byte MAGIC_1 = 'F';

    private final String name;
    private final RandomAccessFile file;
    private final FileInputStream in;
    private final FileOutputStream out;

    private VirtioPort(String name, RandomAccessFile file) throws IOException {
        this.name = name;
        this.file = file;
        // One open file for both directions; plain streams on its descriptor read and write without a shared lock.
        this.in = new FileInputStream(file.getFD());
        this.out = new FileOutputStream(file.getFD());
    }

    static VirtioPort open(Path device) throws IOException {
        return new VirtioPort(device.toString(), new RandomAccessFile(device.toFile(), "rw"));
    }

    OutputStream output() {
        return out;
    }

    /**
     * Blocks until a host sends bytes, and returns the stream of them from the first one. With
     * {@code resync} (the last session broke inside a frame or on garbage), bytes before the next
     * frame magic are dropped, so the next conversation starts on a frame boundary (a host that
     * reconnects starts with its Hello).
     */
    InputStream awaitHost(boolean resync) throws IOException, InterruptedException {
        long probe = FIRST_PROBE_MILLIS;
        boolean absent = false;
        byte[] buffer = new byte[4096];
        while (true) {
            int n = in.read(buffer);
            if (n > 0) {
                int start = resync ? frameStart(buffer, n) : 0;
                if (start < n) {
                    if (absent) {
                        log.info("event=host_present channel={}", name);
                    }
                    return new SequenceInputStream(new ByteArrayInputStream(buffer, start, n - start), portInput());
                }
                log.debug("event=resync_dropped channel={} bytes={}", name, n);
                continue;
            }
            if (!absent) {
                log.info("event=host_absent channel={} why=\"the port reads end of file: no host process connected\"",
                        name);
                absent = true;
            }
            Thread.sleep(probe);
            probe = Math.min(2 * probe, LONGEST_PROBE_MILLIS);
        }
    }

    /**
     * The port's input for one session. SequenceInputStream closes each stream it has read to the end,
     * and the end of a session (the host went away) must not close the port, so this one does not close.
     */
    private InputStream portInput() {
        return new FilterInputStream(in) {
            @Override
            public void close() {
                // the port stays open for the next host
            }
        };
    }

    /** Index of the first possible frame start (magic, or its first byte at the end), or {@code n}. */
    private static int frameStart(byte[] buffer, int n) {
        for (int i = 0; i < n; i++) {
            if (buffer[i] == MAGIC_0 && (i + 1 == n || buffer[i + 1] == MAGIC_1)) {
                return i;
            }
        }
        return n;
    }

    @Override
    public void close() throws IOException {
        file.close();
    }
}
