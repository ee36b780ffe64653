package org.tcpferry.diag;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the processes that hold given sockets open, by reading every {@code /proc/PID/fd/N}
 * symlink: a socket's link reads {@code socket:[INODE]}, the inode that sock_diag reports.
 *
 * <p>The scan is not atomic. A process that exits during it, or a descriptor closed during it,
 * is normal and simply not reported. A process whose descriptors this process may not read
 * (EACCES: another user, without root or CAP_SYS_PTRACE) is not an error either, but it makes the
 * answer incomplete: {@link #scan} returns those pids in {@link OwnerScan#deniedPids()}, and
 * {@link #find} logs their count at debug level. Any other failure is thrown.
 *
 * <p>Only thread group leaders are scanned ({@code /proc/PID}, not {@code /proc/PID/task/TID}):
 * a thread that unshared its descriptor table (clone without CLONE_FILES) is not seen.
 * {@code /proc} shows the processes of this process's PID namespace.
 */
public final class SocketOwners {
    private static final Logger log = LoggerFactory.getLogger(SocketOwners.class);
    private static final Path PROC = Path.of("/proc");
    private static final String SOCKET_LINK_PREFIX = "socket:[";

    private SocketOwners() {}

    /**
     * The owners of each inode in {@code inodes}; an inode nobody holds is absent. Processes that
     * could not be read are logged at debug level; use {@link #scan} to act on them.
     */
    public static Map<Long, List<SocketOwner>> find(Set<Long> inodes) throws IOException {
        OwnerScan scan = scan(inodes);
        if (!scan.complete()) {
            log.debug("socket owner scan could not read the descriptors of {} processes (EACCES): {}",
                    scan.deniedPids().size(), scan.deniedPids());
        }
        return scan.owners();
    }

    /** The owners of each inode in {@code inodes}, and the processes that could not be read. */
    public static OwnerScan scan(Set<Long> inodes) throws IOException {
        Map<Long, List<SocketOwner>> owners = new HashMap<>();
        List<Integer> denied = new ArrayList<>();
        if (inodes.isEmpty()) {
            return new OwnerScan(owners, denied);
        }
        try (DirectoryStream<Path> processes = Files.newDirectoryStream(PROC)) {
            for (Path process : processes) {
                int pid = pidOf(process);
                if (pid > 0) {
                    scanProcess(pid, inodes, owners, denied);
                }
            }
        } catch (DirectoryIteratorException e) {
            throw e.getCause();
        }
        owners.replaceAll((inode, list) -> List.copyOf(list));
        return new OwnerScan(owners, denied);
    }

    /** Adds the matching descriptors of one process; a process that vanishes meanwhile adds nothing. */
    private static void scanProcess(int pid, Set<Long> inodes, Map<Long, List<SocketOwner>> owners,
            List<Integer> denied) throws IOException {
        Path processDir = PROC.resolve(Integer.toString(pid));
        Map<Integer, Long> matches;
        String comm;
        String cgroup;
        try {
            matches = matchingDescriptors(processDir, inodes);
            if (matches.isEmpty()) {
                return;
            }
            comm = Files.readString(processDir.resolve("comm")).strip();
            cgroup = cgroupV2Path(Files.readAllLines(processDir.resolve("cgroup")));
        } catch (AccessDeniedException e) {
            denied.add(pid);
            return;
        } catch (FileSystemException e) {
            if (vanished(processDir)) {
                return;
            }
            throw e;
        }
        for (Map.Entry<Integer, Long> match : matches.entrySet()) {
            owners.computeIfAbsent(match.getValue(), inode -> new ArrayList<>())
                    .add(new SocketOwner(pid, match.getKey(), comm, cgroup));
        }
    }

    /** Descriptor number to socket inode, for the descriptors of one process that refer to {@code inodes}. */
    private static Map<Integer, Long> matchingDescriptors(Path processDir, Set<Long> inodes) throws IOException {
        Map<Integer, Long> matches = new HashMap<>();
        try (DirectoryStream<Path> descriptors = Files.newDirectoryStream(processDir.resolve("fd"))) {
            for (Path descriptor : descriptors) {
                long inode = socketInode(descriptor);
                if (inode > 0 && inodes.contains(inode)) {
                    matches.put(Integer.parseInt(descriptor.getFileName().toString()), inode);
                }
            }
        } catch (DirectoryIteratorException e) {
            throw e.getCause();
        }
        return matches;
    }

    /** The inode of a {@code socket:[N]} link, 0 for anything else or a descriptor closed meanwhile. */
    private static long socketInode(Path descriptor) throws IOException {
        String target;
        try {
            target = Files.readSymbolicLink(descriptor).toString();
        } catch (NoSuchFileException closedMeanwhile) {
            // The descriptor was closed between listing and reading: it refers to nothing now.
            return 0;
        }
        if (!target.startsWith(SOCKET_LINK_PREFIX) || !target.endsWith("]")) {
            return 0;
        }
        return Long.parseLong(target, SOCKET_LINK_PREFIX.length(), target.length() - 1, 10);
    }

    /** The path on the {@code 0::} line of /proc/PID/cgroup, "" without one. */
    static String cgroupV2Path(List<String> cgroupLines) {
        for (String line : cgroupLines) {
            if (line.startsWith("0::")) {
                return line.substring(3);
            }
        }
        return "";
    }

    /** A failure reading a process's files means it exited if its /proc directory is gone. */
    private static boolean vanished(Path processDir) {
        return !Files.isDirectory(processDir);
    }

    private static int pidOf(Path process) {
        String name = process.getFileName().toString();
        for (int i = 0; i < name.length(); i++) {
            if (!Character.isDigit(name.charAt(i))) {
                return 0;
            }
        }
        return name.isEmpty() ? 0 : Integer.parseInt(name);
    }
}
