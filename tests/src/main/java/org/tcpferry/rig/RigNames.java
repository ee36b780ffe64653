package org.tcpferry.rig;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How rig resources are named, so that a rig's leftovers can be traced to the process that made them.
 *
 * <p>A prefix is {@code "tf"}, the creating process's pid in base 36 left-padded with zeros to
 * {@value #PID_DIGITS} digits, then a per-process counter in base 36: {@code tf009ix0}, {@code tf009ix1}.
 * The pid has a fixed width because the counter follows it without a separator: {@code tf1k2a3} could
 * otherwise be pid {@code 1k2a} or pid {@code 1k2}. Five base-36 digits hold every pid up to 60,466,175,
 * above Linux's largest pid_max (4,194,304). Namespaces are {@code <prefix>-<role>}.
 */
final class RigNames {
    static final int PID_DIGITS = 5;
    static final String MARK = "tf";

    /** A rig namespace: prefix (with its pid) and role. */
    private static final Pattern NAMESPACE =
            Pattern.compile("^" + MARK + "([0-9a-z]{" + PID_DIGITS + "})([0-9a-z]+)-(.+)$");

    /** Linux limits interface names to IFNAMSIZ - 1 characters. */
    static final int MAX_LINK_NAME = 15;

    private static final AtomicLong RIGS = new AtomicLong();

    private RigNames() {}

    /** A prefix no other rig of any live process has. */
    static String newPrefix() {
        return prefix(ProcessHandle.current().pid(), RIGS.getAndIncrement());
    }

    static String prefix(long pid, long counter) {
        String pid36 = Long.toString(pid, 36);
        if (pid36.length() > PID_DIGITS) {
            throw new RigException("pid " + pid + " does not fit " + PID_DIGITS + " base-36 digits");
        }
        return MARK + "0".repeat(PID_DIGITS - pid36.length()) + pid36 + Long.toString(counter, 36);
    }

    /** The pid that made the rig namespace {@code name}, or empty when it is not a rig's name. */
    static OptionalLong pidOf(String namespace) {
        Matcher m = NAMESPACE.matcher(namespace);
        if (!m.matches()) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(Long.parseLong(m.group(1), 36));
    }

    /** The largest pid this kernel hands out, from /proc/sys/kernel/pid_max. */
    static long pidMax() {
        try {
            return Long.parseLong(ProcFiles.read(Path.of("/proc/sys/kernel/pid_max")));
        } catch (IOException | NumberFormatException e) {
            throw new RigException("cannot read /proc/sys/kernel/pid_max: " + e.getMessage(), e);
        }
    }

    /** The prefix of the rig namespace {@code name}, or empty when it is not a rig's name. */
    static Optional<String> prefixOf(String namespace) {
        Matcher m = NAMESPACE.matcher(namespace);
        return m.matches() ? Optional.of(MARK + m.group(1) + m.group(2)) : Optional.empty();
    }

    static String namespace(String prefix, String role) {
        if (!role.matches("[A-Za-z0-9_.-]+")) {
            throw new IllegalArgumentException("a role is letters, digits, '_', '.' or '-': " + role);
        }
        return prefix + "-" + role;
    }

    /** Link {@code n} of the rig with {@code prefix}: short enough for a kernel interface name. */
    static String link(String prefix, long n) {
        String name = prefix + "v" + Long.toString(n, 36);
        if (name.length() > MAX_LINK_NAME) {
            throw new RigException("generated link name " + name + " exceeds " + MAX_LINK_NAME + " characters");
        }
        return name;
    }
}
