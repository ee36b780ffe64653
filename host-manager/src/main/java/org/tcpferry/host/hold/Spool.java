package org.tcpferry.host.hold;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The bytes a copy read from the peer, in order, to be handed back to the guest at release.
 * The first {@code memoryLimit} bytes stay in memory; the rest go to a file in the spool
 * directory, created 0600 and deleted at {@link #close}. Limits on the total are the caller's
 * job ({@link SpoolQuota}). Only the namespace's poll loop writes and reads it; {@link #size}
 * and {@link #bytesOnDisk} may be read from any thread.
 */
public final class Spool implements Closeable {
    private long memoryLimit;
    private final Path dir;
    private final String name;
    private final ByteArrayOutputStream memory = new ByteArrayOutputStream();
    private FileChannel file;
    private Path filePath;
    // Volatile: status reads them from other threads while the loop appends.
    private volatile long size;
    private volatile long onDisk;

    /**
     * @param dir where the overflow file goes
     * @param name a file-name-safe label for the connection, so an operator can tell the files apart
     */
    public Spool(long memoryLimit, Path dir, String name) {
        this.memoryLimit = memoryLimit;
        this.dir = dir;
        this.name = name;
    }

    public void append(byte[] buf, int offset, int length) throws IOException {
        int inMemory = (int) Math.max(0, Math.min(length, memoryLimit - memory.size()));
        memory.write(buf, offset, inMemory);
        if (inMemory < length) {
            ByteBuffer rest = ByteBuffer.wrap(buf, offset + inMemory, length - inMemory);
            FileChannel channel = overflowFile();
            while (rest.hasRemaining()) {
                channel.write(rest);
            }
            onDisk += length - inMemory;
        }
        size += length;
    }

    /**
     * From now on every byte goes to the file, which is created at once: a restarted host manager
     * finds the spool there (the file's length is the truth, see {@link #adopt}). Only before the
     * first append.
     */
    public void keepOnDisk() throws IOException {
        if (size != 0) {
            throw new IllegalStateException("spool of " + name + " already holds " + size + " bytes in memory");
        }
        memoryLimit = 0;
        overflowFile();
    }

    /** The spool file, or null while everything is in memory. */
    public Path file() {
        return filePath;
    }

    /**
     * The spool a host manager that died left in {@code file}, cut to the {@code length} bytes the
     * copy had consumed: a write that the copy's read had not yet followed is not part of it.
     * @throws IOException if the file is shorter than {@code length} (bytes would be missing)
     */
    public static Spool adopt(Path file, long length, String name) throws IOException {
        Spool spool = new Spool(0, file.getParent(), name);
        spool.filePath = file;
        spool.file = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        long found = spool.file.size();
        if (found < length) {
            spool.close();
            throw new IOException("spool file " + file + " holds " + found + " bytes, the copy consumed " + length);
        }
        spool.file.truncate(length);
        spool.file.position(length);
        spool.size = length;
        spool.onDisk = length;
        return spool;
    }

    /** Total bytes spooled. */
    public long size() {
        return size;
    }

    /** Bytes that went to the overflow file. */
    public long bytesOnDisk() {
        return onDisk;
    }

    /** Every spooled byte in order. */
    public byte[] readAll() throws IOException {
        if (size > Integer.MAX_VALUE - 8) {
            throw new IOException("spool of " + name + " holds " + size + " bytes, too many for one array");
        }
        byte[] all = new byte[(int) size];
        byte[] head = memory.toByteArray();
        System.arraycopy(head, 0, all, 0, head.length);
        if (file != null) {
            ByteBuffer tail = ByteBuffer.wrap(all, head.length, all.length - head.length);
            long position = 0;
            while (tail.hasRemaining()) {
                int n = file.read(tail, position);
                if (n < 0) {
                    throw new IOException("spool file " + filePath + " is shorter than the " + size + " bytes written");
                }
                position += n;
            }
        }
        return all;
    }

    /** Frees the memory and deletes the overflow file. */
    @Override
    public void close() throws IOException {
        memory.reset();
        if (file != null) {
            file.close();
            Files.deleteIfExists(filePath);
            file = null;
        }
    }

    private FileChannel overflowFile() throws IOException {
        if (file == null) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            filePath = Files.createTempFile(dir, name + "-", ".spool",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            file = FileChannel.open(filePath, StandardOpenOption.READ, StandardOpenOption.WRITE);
        }
        return file;
    }
}
