package org.tcpferry.diag;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Finds mount points in {@code /proc/self/mountinfo}, whose lines read
 * <pre>
 * 40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
 * id parent dev root mountpoint options [optional fields...] - fstype source superoptions
 * </pre>
 * Paths escape space, tab, newline and backslash as 3-digit octal ({@code \040}).
 */
final class MountInfo {
    private MountInfo() {}

    /** The mount point of the first mount of file system type {@code fsType}. */
    static Optional<Path> firstMountOf(String fsType, List<String> mountinfoLines) {
        for (String line : mountinfoLines) {
            String[] fields = line.split(" ");
            int separator = List.of(fields).indexOf("-");
            if (separator < 5 || separator + 1 >= fields.length) {
                continue; // not a mount line; mountinfo has no other kind, but a truncated read might
            }
            if (fields[separator + 1].equals(fsType)) {
                return Optional.of(Path.of(unescape(fields[4])));
            }
        }
        return Optional.empty();
    }

    static String unescape(String field) {
        StringBuilder out = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && i + 3 < field.length() && isOctal(field, i + 1)) {
                out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static boolean isOctal(String s, int from) {
        for (int i = from; i < from + 3; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '7') {
                return false;
            }
        }
        return true;
    }
}
