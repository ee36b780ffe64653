package org.tcpferry.rig;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Reads /proc files. {@code Files.readString} cannot: /proc reports size 0, so it reads one byte first,
 * and a sysctl file answers any read that does not start at offset 0 with end-of-file, so it returned
 * "3" for a pid_max of 32768. One large read from offset 0 gets the whole value.
 */
final class ProcFiles {
    private static final int MAX = 64 * 1024;

    private ProcFiles() {}

    /** The file's text, stripped of surrounding whitespace. */
    static String read(Path file) throws IOException {
        try (InputStream in = new FileInputStream(file.toFile())) {
            byte[] buffer = new byte[MAX];
            int length = in.read(buffer);
            return length <= 0 ? "" : new String(buffer, 0, length, StandardCharsets.UTF_8).strip();
        }
    }
}
