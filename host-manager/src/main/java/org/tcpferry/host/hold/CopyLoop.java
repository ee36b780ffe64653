package org.tcpferry.host.hold;

import java.io.Closeable;
import java.io.IOException;
import java.util.Arrays;
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
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tcpferry.netns.NetNamespace;
import org.tcpferry.sys.Epoll;
import org.tcpferry.sys.LibC;
import org.tcpferry.sys.SyscallException;

/**
 * The one thread that owns every copy socket of one network namespace: it creates them (a socket
 * belongs to the namespace of the thread that makes it), reads them into their spools, dumps and
 * closes them. All work on a copy is submitted here, so no copy is ever touched by two threads.
 *
 * <p>Why our own epoll loop and not Netty's {@code EpollSocketChannel}: a Netty channel owns its
 * descriptor and closes it with a plain close(2), which sends FIN (or RST with unread data); a
 * copy must only ever be closed in repair mode ({@code TcpRepair.closeSilently}). Netty would also
 * keep reading while we dump the socket.
 *
 * <p>Each copy is registered with the loop's {@link Epoll} once, when it is watched, and removed
 * when it is unwatched (always before it is closed: the fd keeper holds duplicates). A wake-up
 * then costs what is ready, not what is held: with poll(2) every wake-up rebuilt and scanned an
 * array of all held copies, and as every submitted task wakes the loop, a release of N
 * connections cost O(N^2). Level-triggered. A copy with no read interest (spool quota used up,
 * peer finished, release under way) stays registered without EPOLLIN, so that a reset still
 * shows; one that waits for quota is re-checked at every wake-up and at least every
 * {@value #POLL_TIMEOUT_MILLIS} ms, since quota is freed by other connections and other loops.
 * Submitted tasks wake the loop through an eventfd, signalled once per batch of tasks.
 */
public final class CopyLoop implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(CopyLoop.class);
    /** Bytes read from one copy per round, so that a fast peer cannot starve the others. */
    private static final int READ_BUDGET = 1 << 20;
    /** Wake-up interval even without events, to notice quota freed by another connection. */
    private static final int POLL_TIMEOUT_MILLIS = 200;
    /** Ready copies handled per epoll_wait; more simply wait for the next round (level-triggered). */
    private static final int MAX_EVENTS = 256;

    private final String name;
    private final ExecutorService thread;
    private final EventFd wakeup;
    /** Set by the first submit after the loop last looked at its tasks: later ones need not signal. */
    private final AtomicBoolean wakeupPending = new AtomicBoolean();
    private final Epoll epoll;
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    /**
     * Every watched copy at the index of its descriptor (descriptors are small and dense), so an
     * event finds its connection without a map entry per copy; loop thread only. Each connection
     * keeps its own registration ({@link HeldConnection#watchedFd}, {@link HeldConnection#watchedReading}).
     */
    private HeldConnection[] byFd = new HeldConnection[1024];
    /** Watched copies registered without EPOLLIN because their spool quota is used up. */
    private final Set<HeldConnection> waitingForQuota = new LinkedHashSet<>();
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
        try {
            this.epoll = new Epoll("copies-" + name, MAX_EVENTS);
            epoll.add(wakeup.fd(), LibC.EPOLLIN, "eventfd of copy loop " + name);
        } catch (SyscallException e) {
            wakeup.close();
            throw e;
        }
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
        if (!wakeupPending.getAndSet(true)) {
            signalWakeup();
        }
        return result;
    }

    private void signalWakeup() {
        try {
            wakeup.signal();
        } catch (SyscallException e) {
            // The task is queued and runs at the next wait's timeout anyway; say why it was slow.
            log.warn("event=wakeup_failed loop={} error=\"{}\"", name, e.getMessage());
        }
    }

    /** Starts reading {@code held}'s copy; call on the loop thread. */
    void watch(HeldConnection held) throws SyscallException {
        int fd = held.copyFd();
        boolean reading = held.readInterest();
        if (held.watchedFd == fd) {
            setReading(held, reading);
            return;
        }
        if (held.watchedFd >= 0) {
            unwatch(held); // a new copy of the same connection; the old one is still open (never closed watched)
        }
        epoll.add(fd, reading ? LibC.EPOLLIN : 0, held.flow().toString());
        held.watchedFd = fd;
        held.watchedReading = reading;
        if (fd >= byFd.length) {
            byFd = Arrays.copyOf(byFd, Math.max(fd + 1, byFd.length * 2));
        }
        byFd[fd] = held;
        noteQuotaWait(held, reading);
    }

    /**
     * Stops reading {@code held}'s copy, which must still be open if it is watched; call on the
     * loop thread. Nothing happens for a copy not watched. The loop forgets the copy even if the
     * kernel refuses to remove it (the exception says so).
     */
    void unwatch(HeldConnection held) throws SyscallException {
        int fd = held.watchedFd;
        if (fd < 0) {
            return;
        }
        held.watchedFd = -1;
        if (byFd[fd] == held) {
            byFd[fd] = null;
        }
        waitingForQuota.remove(held);
        epoll.remove(fd, held.flow().toString());
    }

    public String name() {
        return name;
    }

    private void loop() {
        try {
            while (running) {
                runTasks();
                awaitOnce();
                recheckQuota();
            }
            runTasks();
        } catch (Throwable e) {
            log.error("event=copy_loop_died loop={} error=\"{}\"", name, e.toString(), e);
        } finally {
            stopped.complete(null);
        }
    }

    /** Runs every task queued so far: one wake-up serves all the tasks submitted since the last. */
    private void runTasks() {
        wakeupPending.set(false); // before polling the queue: a task added after this signals again
        Runnable task;
        while ((task = tasks.poll()) != null) {
            task.run();
        }
    }

    private void awaitOnce() throws SyscallException {
        int ready = epoll.await(POLL_TIMEOUT_MILLIS);
        for (int i = 0; i < ready; i++) {
            int fd = epoll.readyFd(i);
            if (fd == wakeup.fd()) {
                wakeup.clear();
                continue;
            }
            HeldConnection held = fd < byFd.length ? byFd[fd] : null;
            if (held != null) {
                try {
                    serve(held, epoll.readyEvents(i));
                } catch (SyscallException e) {
                    stopReadingAfter(held, e);
                }
            }
        }
    }

    /** Reads a ready copy and registers its read interest anew if that changed. */
    private void serve(HeldConnection held, int events) throws SyscallException {
        boolean reading = held.readInterest();
        // Only readable, but nothing is wanted (quota used up, release under way): just stop asking.
        if (reading || (events & ~LibC.EPOLLIN) != 0) {
            if (!held.onReady(events, readBuffer, READ_BUDGET)) {
                unwatch(held); // reset or failed: nothing more will come
                return;
            }
            reading = held.readInterest();
        }
        setReading(held, reading);
    }

    private void setReading(HeldConnection held, boolean reading) throws SyscallException {
        if (held.watchedReading != reading) {
            epoll.modify(held.watchedFd, reading ? LibC.EPOLLIN : 0, held.flow().toString());
            held.watchedReading = reading;
        }
        noteQuotaWait(held, reading);
    }

    private void noteQuotaWait(HeldConnection held, boolean reading) {
        if (!reading && held.waitsForQuota()) {
            waitingForQuota.add(held);
        } else {
            waitingForQuota.remove(held);
        }
    }

    /** Copies that stopped reading for want of quota read again once there is room (freed elsewhere). */
    private void recheckQuota() {
        if (waitingForQuota.isEmpty()) {
            return;
        }
        for (HeldConnection held : List.copyOf(waitingForQuota)) {
            try {
                setReading(held, held.readInterest());
            } catch (SyscallException e) {
                stopReadingAfter(held, e);
            }
        }
    }

    /**
     * The kernel refused to change one copy's registration: that copy is read no more (its peer
     * sees the window close, as with a full spool) and the loop goes on for all the others.
     */
    private void stopReadingAfter(HeldConnection held, SyscallException error) {
        log.error("event=copy_watch_failed loop={} domain={} flow={} error=\"{}\"", name, held.domain(), held.flow(),
                error.getMessage());
        try {
            unwatch(held);
        } catch (SyscallException again) {
            log.error("event=copy_unwatch_failed loop={} domain={} flow={} error=\"{}\"", name, held.domain(),
                    held.flow(), again.getMessage());
        }
    }

    /** Stops the thread after the tasks already submitted; copies still watched are left to the caller. */
    @Override
    public void close() throws IOException {
        running = false;
        signalWakeup();
        try {
            stopped.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IOException("copy loop " + name + " did not stop", e);
        } finally {
            thread.shutdown();
            try {
                epoll.close();
            } finally {
                wakeup.close();
            }
        }
    }
}
