package org.tcpferry.rig;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * A set of throwaway network namespaces for one test, named with a prefix unique to this rig
 * ({@code tf<pid><n>}, see {@link #prefix()}), and everything that must go when the test ends.
 *
 * <p>Use it in try-with-resources. {@link #close()} kills the processes the rig spawned and any other
 * process still living in its namespaces, deletes the namespaces (which takes their veths and bridges
 * with them) and removes anything named with the prefix that leaked into the root namespace. It always
 * does all of that, and only then reports what went wrong in one exception. A JVM that exits with rigs
 * still open closes them from a shutdown hook; a JVM that was killed leaves namespaces whose pid is
 * dead, which the next {@link #create} (or {@link #sweepStale()}) removes.
 *
 * <p>The rig never changes the root network namespace.
 */
public final class Rig implements AutoCloseable {
    private static final Path NETNS_DIR = Path.of("/run/netns");
    private static final Set<Rig> OPEN = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(Rig::closeForgotten, "rig-shutdown"));
    }

    private final String prefix;
    private final String purpose;
    private final Map<String, Namespace> namespaces = new LinkedHashMap<>();
    private final List<Process> spawned = new ArrayList<>();
    private final AtomicLong links = new AtomicLong();
    private final AtomicLong macs = new AtomicLong(1);
    private boolean closed;

    private Rig(String prefix, String purpose) {
        this.prefix = prefix;
        this.purpose = purpose;
    }

    /**
     * A new empty rig. {@code purpose} only appears in messages, to tell which test a rig belonged to.
     * Stale rigs of dead processes are swept first.
     */
    public static Rig create(String purpose) {
        sweepStale();
        Rig rig = new Rig(RigNames.newPrefix(), purpose);
        OPEN.add(rig);
        return rig;
    }

    /** {@code "tf"}, this process's pid in base 36 (5 digits), a counter: unique among live processes. */
    public String prefix() {
        return prefix;
    }

    public String purpose() {
        return purpose;
    }

    /**
     * The namespace {@code <prefix>-<role>}, created on first use with loopback up, forwarding off,
     * IPv6 duplicate address detection off and IPv6 addresses kept when a link goes down.
     */
    public synchronized Namespace namespace(String role) {
        ensureOpen();
        Namespace existing = namespaces.get(role);
        if (existing != null) {
            return existing;
        }
        Namespace created = new Namespace(this, role, RigNames.namespace(prefix, role));
        // Registered before it exists, so that close() removes even a half-made namespace.
        namespaces.put(role, created);
        Commands.check(List.of(Tools.require("ip"), "netns", "add", created.name()), null);
        created.initialise();
        return created;
    }

    /** The namespaces made so far, in creation order. */
    public synchronized List<Namespace> namespaces() {
        return List.copyOf(namespaces.values());
    }

    /** A link name no other link of this rig has, at most 15 characters. */
    String newLinkName() {
        return RigNames.link(prefix, links.getAndIncrement());
    }

    /** A locally administered unicast MAC no other link of this rig has: 02:74:66 ("tf") and a counter. */
    String newMac() {
        long n = macs.getAndIncrement();
        return String.format("02:74:66:%02x:%02x:%02x", (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
    }

    synchronized void registerSpawned(Process process) {
        if (closed) {
            process.destroyForcibly();
            throw new RigException("rig " + prefix + " is closed");
        }
        spawned.add(process);
    }

    synchronized void ensureOpen() {
        if (closed) {
            throw new RigException("rig " + prefix + " (" + purpose + ") is closed");
        }
    }

    /**
     * Removes everything the rig made; a second call does nothing. Every step runs even when an earlier
     * one failed; the failures are then thrown together as one RigException (each also suppressed in it).
     */
    @Override
    public void close() {
        List<Namespace> toDelete;
        List<Process> toStop;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            toDelete = List.copyOf(namespaces.values());
            toStop = List.copyOf(spawned);
        }
        OPEN.remove(this);
        List<Exception> problems = new ArrayList<>();
        stopSpawned(toStop, problems);
        for (Namespace namespace : toDelete) {
            killResidents(namespace.file(), problems);
        }
        deleteNamespaces(toDelete.stream().map(Namespace::name).collect(Collectors.toList()), problems);
        RootNamespaceLeaks.remove(prefix, problems);
        if (!problems.isEmpty()) {
            RigException summary = new RigException("rig " + prefix + " (" + purpose + ") cleaned up, but: "
                    + problems.stream().map(Exception::getMessage).collect(Collectors.joining("; ")));
            problems.forEach(summary::addSuppressed);
            throw summary;
        }
    }

    /**
     * Deletes every rig namespace (name {@code tf<pid><n>-<role>}) whose pid is no longer alive, after
     * killing the processes left in it. Namespaces of live processes, including this one, are left alone.
     */
    public static void sweepStale() {
        List<String> stale = new ArrayList<>();
        long pidMax = RigNames.pidMax();
        for (String name : namedNamespaces()) {
            OptionalLong pid = RigNames.pidOf(name);
            // A "pid" above pid_max means the name only looks like a rig's (say tfvm28250-host): not ours.
            if (pid.isPresent() && pid.getAsLong() <= pidMax && !isAlive(pid.getAsLong())) {
                stale.add(name);
            }
        }
        if (stale.isEmpty()) {
            return;
        }
        List<Exception> problems = new ArrayList<>();
        for (String name : stale) {
            killResidents(NETNS_DIR.resolve(name), problems);
        }
        deleteNamespaces(stale, problems);
        if (!problems.isEmpty()) {
            RigException summary = new RigException("sweeping stale rig namespaces failed: "
                    + problems.stream().map(Exception::getMessage).collect(Collectors.joining("; ")));
            problems.forEach(summary::addSuppressed);
            throw summary;
        }
    }

    private static boolean isAlive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** The names in /run/netns, as {@code ip netns list} shows them. */
    static List<String> namedNamespaces() {
        if (!Files.isDirectory(NETNS_DIR)) {
            return List.of();
        }
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(NETNS_DIR)) {
            for (Path entry : dir) {
                names.add(entry.getFileName().toString());
            }
        } catch (IOException e) {
            throw new RigException("cannot list " + NETNS_DIR + ": " + e.getMessage(), e);
        }
        return names;
    }

    static Path namespaceFile(String name) {
        return NETNS_DIR.resolve(name);
    }

    /**
     * SIGTERM first to each spawned process and its descendants, so that a tool can tidy up; SIGKILL
     * after 2 s for whatever is still running. (Descendants still inside a namespace would also be
     * found by {@link #killResidents}; those that left it would not.)
     */
    private static void stopSpawned(List<Process> processes, List<Exception> problems) {
        List<ProcessHandle> all = new ArrayList<>();
        for (Process process : processes) {
            all.add(process.toHandle());
            process.descendants().forEach(all::add);
        }
        all.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        for (ProcessHandle handle : all) {
            if (!awaitExit(handle, deadline - System.nanoTime(), problems)) {
                handle.destroyForcibly();
                if (!awaitExit(handle, TimeUnit.SECONDS.toNanos(5), problems)) {
                    problems.add(new RigException("spawned process " + handle.pid() + " survived SIGKILL"));
                }
            }
        }
    }

    /** Waits up to {@code nanos} for {@code handle} to exit; true when it has. */
    private static boolean awaitExit(ProcessHandle handle, long nanos, List<Exception> problems) {
        try {
            handle.onExit().get(Math.max(nanos, 0), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException stillRunning) {
            return false;
        } catch (ExecutionException e) {
            problems.add(new RigException("cannot wait for process " + handle.pid() + ": " + e.getCause(), e));
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            problems.add(new RigException("interrupted while stopping process " + handle.pid(), e));
            return false;
        }
    }

    private static void killResidents(Path namespaceFile, List<Exception> problems) {
        try {
            List<Long> survivors = NamespaceProcesses.kill(namespaceFile);
            if (!survivors.isEmpty()) {
                problems.add(new RigException("processes " + survivors + " in " + namespaceFile + " survived SIGKILL"));
            }
        } catch (IOException | RuntimeException e) {
            problems.add(new RigException("cannot kill the processes in " + namespaceFile + ": " + e.getMessage(), e));
        }
    }

    /** One {@code ip -force -batch} for all; success is judged by the names being gone afterwards. */
    private static void deleteNamespaces(List<String> names, List<Exception> problems) {
        List<String> present = names.stream()
                .filter(name -> Files.exists(namespaceFile(name)))
                .collect(Collectors.toList());
        if (present.isEmpty()) {
            return;
        }
        String batch = present.stream().map(name -> "netns delete " + name + "\n").collect(Collectors.joining());
        ExecResult result;
        try {
            result = Commands.run(List.of(Tools.require("ip"), "-force", "-batch", "-"), batch);
        } catch (RuntimeException e) {
            problems.add(e);
            return;
        }
        List<String> remaining = present.stream()
                .filter(name -> Files.exists(namespaceFile(name)))
                .collect(Collectors.toList());
        if (!remaining.isEmpty()) {
            problems.add(new RigException("namespaces " + remaining + " remain after ip netns delete: "
                    + result.stderr().strip()));
        }
    }

    private static void closeForgotten() {
        for (Rig rig : List.copyOf(OPEN)) {
            try {
                rig.close();
            } catch (RuntimeException e) {
                // The JVM is exiting: stderr is the only place left to say it.
                System.err.println("rig " + rig.prefix + " closed at JVM exit: " + e.getMessage());
            }
        }
    }

    @Override
    public String toString() {
        return "rig " + prefix + " (" + purpose + ")";
    }
}
