package org.tcpferry.host.hold;

import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import com.sun.jna.Native;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tcpferry.netns.NetNamespace;
import org.tcpferry.sys.Errno;
import org.tcpferry.sys.LibC;
import org.tcpferry.sys.SyscallException;

/**
 * The one thread that owns every copy socket of one network namespace: it creates them (a socket
 * belongs to the namespace of the thread that makes it), reads them into their spools, dumps and
 * closes them. All work on a copy is submitted here, so no copy is ever touched by two threads.
 *
 * <p>Why our own poll(2) loop and not Netty's {@code EpollSocketChannel}: a Netty channel owns its
 * descriptor and closes it with a plain close(2), which sends FIN (or RST with unread data); a
 * copy must only ever be closed in repair mode ({@code TcpRepair.closeSilently}). Netty would also
 * keep reading while we dump the socket. Level-triggered poll over at most some thousands of
 * sockets costs microseconds per round, and an eventfd wakes it for submitted work.
 */
public final class CopyLoop implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(CopyLoop.class);
    /** Bytes read from one copy per round, so that a fast peer cannot starve the others. */
    private static final int READ_BUDGET = 1 << 20;
    /** Wake-up interval even without events, to notice quota freed by another connection. */
    private static final int POLL_TIMEOUT_MILLIS = 200;

    private final String name;
    private final ExecutorService thread;
    private final EventFd wakeup;
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final Set<HeldConnection> copies = new LinkedHashSet<>(); // loop thread only
    private final byte[] readBuffer = new byte[256 * 1024];
    private volatile boolean running = true;
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();

    /**
     * Starts the loop's thread inside {@code netns}, or in the daemon's own namespace when null.
     * @param name names the thread and log lines
     */
    public CopyLoop(String name, NetNamespace netns) throws SyscallException {
        this.name = name;
        this.wakeup = new EventFd();
        this.thread = netns == null
                ? Executors.newSingleThreadExecutor(r -> {
                    Thread t = new Thread(r, "copies-" + name);
                    t.setDaemon(true);
                    return t;
                })
                : netns.executor("copies-" + name);
        thread.execute(this::loop);
    }

    /** Runs {@code work} on the loop thread. */
    public <T> CompletableFuture<T> submit(Callable<T> work) {
        CompletableFuture<T> result = new CompletableFuture<>();
        if (!running) {
            result.completeExceptionally(new IllegalStateException("copy loop " + name + " is stopped"));
            return result;
        }
        tasks.add(() -> {
            try {
                result.complete(work.call());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        });
        try {
            wakeup.signal();
        } catch (SyscallException e) {
            // The task is queued and runs at the next poll timeout anyway; say why it was slow.
            log.warn("event=wakeup_failed loop={} error=\"{}\"", name, e.getMessage());
        }
        return result;
    }

    /** Starts reading {@code held}'s copy; call on the loop thread. */
    void watch(HeldConnection held) {
        copies.add(held);
    }

    /** Stops reading {@code held}'s copy; call on the loop thread. */
    void unwatch(HeldConnection held) {
        copies.remove(held);
    }

    public String name() {
        return name;
    }

    private void loop() {
        try {
            while (running) {
                runTasks();
                pollOnce();
            }
            runTasks();
        } catch (Throwable e) {
            log.error("event=copy_loop_died loop={} error=\"{}\"", name, e.toString(), e);
        } finally {
            stopped.complete(null);
        }
    }

    private void runTasks() {
        Runnable task;
        while ((task = tasks.poll()) != null) {
            task.run();
        }
    }

    private void pollOnce() throws SyscallException {
        List<HeldConnection> polled = new ArrayList<>(copies.size());
        byte[] pollfds = new byte[8 * (copies.size() + 1)];
        put(pollfds, 0, wakeup.fd(), LibC.POLLIN);
        for (HeldConnection held : copies) {
            // A copy with no room keeps being polled without POLLIN, so that a reset still shows.
            put(pollfds, polled.size() + 1, held.copyFd(), held.readInterest() ? LibC.POLLIN : 0);
            polled.add(held);
        }
        int n = LibC.poll(pollfds, polled.size() + 1, POLL_TIMEOUT_MILLIS);
        if (n < 0) {
            int errno = Native.getLastError();
            if (errno == Errno.EINTR) {
                return;
            }
            throw SyscallException.of("poll(" + (polled.size() + 1) + " fds)", errno);
        }
        if (revents(pollfds, 0) != 0) {
            wakeup.clear();
        }
        for (int i = 0; i < polled.size(); i++) {
            int revents = revents(pollfds, i + 1);
            if (revents != 0) {
                HeldConnection held = polled.get(i);
                if (!held.onReady(revents, readBuffer, READ_BUDGET)) {
                    copies.remove(held); // reset or failed: nothing more will come
                }
            }
        }
    }

    private static void put(byte[] pollfds, int index, int fd, short events) {
        int at = index * 8;
        pollfds[at] = (byte) fd;
        pollfds[at + 1] = (byte) (fd >>> 8);
        pollfds[at + 2] = (byte) (fd >>> 16);
        pollfds[at + 3] = (byte) (fd >>> 24);
        pollfds[at + 4] = (byte) events;
        pollfds[at + 5] = (byte) (events >>> 8);
        pollfds[at + 6] = 0;
        pollfds[at + 7] = 0;
    }

    private static int revents(byte[] pollfds, int index) {
        int at = index * 8;
        return (pollfds[at + 6] & 0xff) | (pollfds[at + 7] & 0xff) << 8;
    }

    /** Stops the thread after the tasks already submitted; copies still watched are left to the caller. */
    @Override
    public void close() throws IOException {
        running = false;
        wakeup.signal();
        try {
            stopped.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IOException("copy loop " + name + " did not stop", e);
        } finally {
            thread.shutdown();
            wakeup.close();
        }
    }
}
