package org.tcpferry.rig;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Finds and kills the processes that live in a named network namespace. A process keeps its
 * namespace (and the veths in it) alive after {@code ip netns delete}, so cleanup kills them first.
 * Processes are matched by the namespace's nsfs inode, read from {@code /proc/PID/ns/net}; this JVM
 * itself is never touched (its threads may have entered the namespace, the process has not).
 */
final class NamespaceProcesses {
    private NamespaceProcesses() {}

    /** The pids whose network namespace is the one bound at {@code namespaceFile}. */
    static List<Long> in(Path namespaceFile) throws IOException {
        String wanted;
        try {
            wanted = "net:[" + Files.getAttribute(namespaceFile, "unix:ino") + "]";
        } catch (NoSuchFileException gone) {
            return List.of();
        }
        long self = ProcessHandle.current().pid();
        List<Long> pids = new ArrayList<>();
        try (DirectoryStream<Path> proc = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path dir : proc) {
                long pid = Long.parseLong(dir.getFileName().toString());
                if (pid != self && wanted.equals(namespaceOf(dir))) {
                    pids.add(pid);
                }
            }
        }
        return pids;
    }

    /** SIGKILLs every process in the namespace and waits briefly for each to go; returns what survived. */
    static List<Long> kill(Path namespaceFile) throws IOException {
        List<Long> survivors = new ArrayList<>();
        for (long pid : in(namespaceFile)) {
            ProcessHandle.of(pid).ifPresent(handle -> {
                handle.destroyForcibly();
                try {
                    handle.onExit().get(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    survivors.add(pid);
                } catch (Exception stillAlive) {
                    // Reported to the caller through the survivors list, which names the pid.
                    survivors.add(pid);
                }
            });
        }
        return survivors;
    }

    /** The target of {@code /proc/PID/ns/net}, or null when the process is gone or not ours to see. */
    private static String namespaceOf(Path procDir) {
        try {
            return Files.readSymbolicLink(procDir.resolve("ns/net")).toString();
        } catch (IOException | SecurityException vanishedOrForbidden) {
            // The process exited during the scan, or is a kernel thread: it is in no namespace of ours.
            return null;
        }
    }
}
