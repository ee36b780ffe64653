package org.tcpferry.host.auth;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;

/** The host secret file: 32 random bytes, created with mode 0600 on first start. */
public final class HostSecret {
    static final int LENGTH = 32;

    private HostSecret() {
    }

    /** Reads the secret, creating the file (and its directory) if it does not exist. */
    public static byte[] loadOrCreate(Path file) throws IOException {
        if (!Files.exists(file)) {
            create(file);
        }
        byte[] secret = Files.readAllBytes(file);
        if (secret.length < 16) {
            throw new IOException("host secret " + file + " is too short: " + secret.length + " bytes, need 16 or more");
        }
        return secret;
    }

    private static void create(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        byte[] secret = new byte[LENGTH];
        new SecureRandom().nextBytes(secret);
        try {
            // Created with 0600 from the start, so the secret is never readable by others, not even briefly.
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (FileAlreadyExistsException raced) {
            return; // another process created it first; use theirs
        }
        Files.write(file, secret, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
    }
}
