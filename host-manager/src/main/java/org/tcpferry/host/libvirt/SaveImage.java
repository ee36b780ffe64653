package org.tcpferry.host.libvirt;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads the domain definition libvirt stores near the start of a save image, to learn which
 * domain a {@code tcpferry restore FILE} brings back (libvirt-java has no binding for
 * {@code virDomainSaveImageGetXMLDesc}). QEMU images ({@code LibvirtQemudSave} header) and the
 * test driver's images both keep the XML uncompressed before the memory.
 */
public final class SaveImage {
    private static final int HEADER_LIMIT = 4 << 20;

    private SaveImage() {
    }

    /** The domain XML in {@code image}; IOException when none is found in its first 4 MiB. */
    public static String domainXml(Path image) throws IOException {
        byte[] head;
        try (InputStream in = Files.newInputStream(image)) {
            head = in.readNBytes(HEADER_LIMIT);
        }
        String text = new String(head, StandardCharsets.ISO_8859_1);
        int start = text.indexOf("<domain");
        int end = text.indexOf("</domain>", Math.max(start, 0));
        if (start < 0 || end < 0) {
            throw new IOException(image + " is not a libvirt save image (no domain definition in its header)");
        }
        return new String(head, start, end + "</domain>".length() - start, StandardCharsets.UTF_8);
    }
}
