package org.tcpferry.netns;

import com.sun.jna.Native;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.tcpferry.sys.Fds;
import org.tcpferry.sys.LibC;
import org.tcpferry.sys.SyscallException;

/**
 * A network namespace, named by a file that refers to it ({@code /run/netns/NAME} for one made by
 * {@code ip netns add}, {@code /proc/PID/ns/net} for a process's). setns(2) moves only the calling
 * thread, and sockets belong to the namespace of the thread that creates them, so work for a
 * namespace runs on a thread of its own: {@link #call} for one job, {@link #executor} for a
 * daemon that keeps working there. The caller's thread never changes namespace.
 */
public final class NetNamespace {
    private final Path file;

    private NetNamespace(Path file) {
        this.file = file;
    }

    /** The namespace that {@code ip netns add NAME} created. */
    public static NetNamespace named(String name) {
        return new NetNamespace(Path.of("/run/netns", name));
    }

    /** The namespace of process {@code pid}. */
    public static NetNamespace ofProcess(int pid) {
        return new NetNamespace(Path.of("/proc", Integer.toString(pid), "ns", "net"));
    }

    public static NetNamespace at(Path file) {
        return new NetNamespace(file);
    }

    public Path file() {
        return file;
    }

    /** Runs {@code work} on a new thread inside this namespace and returns its result. */
    public <T> T call(Callable<T> work) throws IOException {
        ExecutorService thread = executor("netns-call");
        try {
            return thread.submit(work).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while working in " + file, e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException) {
                throw (IOException) cause;
            }
            if (cause instanceof RuntimeException) {
                throw (RuntimeException) cause;
            }
            if (cause instanceof Error) {
                throw (Error) cause;
            }
            throw new IOException(cause);
        } finally {
            thread.shutdown();
        }
    }

    /** Runs {@code work} inside this namespace, like {@link #call} without a result. */
    public void run(IoRunnable work) throws IOException {
        call(() -> {
            work.run();
            return null;
        });
    }

    /**
     * A single-thread executor whose thread entered this namespace before running anything. The
     * thread is a daemon thread named {@code threadName}; shut the executor down when done.
     * Entering fails on the first task with the setns error.
     */
    public ExecutorService executor(String threadName) {
        ExecutorService executor = Executors.newSingleThreadExecutor(runnable -> {
            Thread t = new Thread(runnable, threadName);
            t.setDaemon(true);
            return t;
        });
        Future<?> entered = executor.submit(() -> {
            enterOnThisThread();
            return null;
        });
        try {
            entered.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            executor.shutdownNow();
            throw new IllegalStateException("interrupted while entering " + file, e);
        } catch (ExecutionException e) {
            executor.shutdownNow();
            throw new NamespaceUnavailableException(file, e.getCause());
        }
        return executor;
    }

    private void enterOnThisThread() throws SyscallException {
        int fd = Fds.openReadOnly(file.toString());
        try {
            if (LibC.setns(fd, LibC.CLONE_NEWNET) < 0) {
                throw SyscallException.of("setns(" + file + ", CLONE_NEWNET)", Native.getLastError());
            }
        } finally {
            Fds.close(fd, file.toString());
        }
    }

    @Override
    public String toString() {
        return "netns " + file;
    }

    /** Work that may fail with an IOException. */
    @FunctionalInterface
    public interface IoRunnable {
        void run() throws IOException;
    }

    /** The namespace file could not be opened or entered. */
    public static final class NamespaceUnavailableException extends IllegalStateException {
        NamespaceUnavailableException(Path file, Throwable cause) {
            super("cannot enter network namespace " + file + ": " + cause.getMessage(), cause);
        }
    }
}
