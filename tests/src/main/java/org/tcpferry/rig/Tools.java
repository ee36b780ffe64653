package org.tcpferry.rig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Finds the system tools the rig runs. Maven and IDEs often start the JVM with a PATH that lacks the
 * sbin directories where Debian puts {@code ip} and {@code nft}, so those are always searched too.
 */
final class Tools {
    /** The directories searched after PATH, and appended to the PATH of every command the rig runs. */
    static final List<String> SYSTEM_DIRS =
            List.of("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin");

    /** Every tool the rig needs. */
    static final List<String> REQUIRED = List.of("ip", "nft", "nsenter");

    private static final Map<String, String> FOUND = new ConcurrentHashMap<>();

    private Tools() {}

    /** The PATH for child processes: the inherited one plus the system directories it lacks. */
    static String searchPath() {
        Set<String> dirs = new LinkedHashSet<>();
        String inherited = System.getenv("PATH");
        if (inherited != null && !inherited.isEmpty()) {
            dirs.addAll(List.of(inherited.split(":")));
        }
        dirs.addAll(SYSTEM_DIRS);
        return String.join(":", dirs);
    }

    /** The executable called {@code name} on {@link #searchPath()}, if any. */
    static Optional<Path> find(String name) {
        for (String dir : searchPath().split(":")) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** The absolute path of {@code name}; a RigException naming the tool when it is missing. */
    static String require(String name) {
        // Looked up once: the rig runs ip and nsenter hundreds of times per test run.
        return FOUND.computeIfAbsent(name, tool -> find(tool)
                .map(Path::toString)
                .orElseThrow(() -> new RigException("`" + tool + "` not found on " + searchPath())));
    }

    /** The required tools that cannot be found. */
    static List<String> missing() {
        List<String> missing = new ArrayList<>();
        for (String tool : REQUIRED) {
            if (find(tool).isEmpty()) {
                missing.add(tool);
            }
        }
        return missing;
    }
}
