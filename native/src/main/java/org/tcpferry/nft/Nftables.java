package org.tcpferry.nft;

import com.sun.jna.Pointer;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.tcpferry.netns.NetNamespace;

/**
 * One long-lived nftables context in one network namespace: each {@link #apply} hands a script to
 * libnftables in this process, which applies it as one transaction exactly as {@code nft -f}
 * would, without spawning a process (31-42 ms per spawn on these machines, five per handoff and
 * reclaim cycle). The context's netlink socket belongs to the namespace of the thread that creates
 * it, so the context lives on a thread of its own inside the namespace, and every script runs
 * there, one at a time.
 */
public final class Nftables implements Closeable {
    private final String where;
    private final ExecutorService thread;
    private final Pointer ctx;
    private boolean closed;

    private Nftables(String where, ExecutorService thread) throws IOException {
        this.where = where;
        this.thread = thread;
        Pointer created;
        try {
            created = onThread(() -> {
                Pointer c = LibNftables.nft_ctx_new(LibNftables.NFT_CTX_DEFAULT);
                if (c != null) {
                    LibNftables.nft_ctx_buffer_output(c);
                    LibNftables.nft_ctx_buffer_error(c);
                }
                return c;
            });
        } catch (IOException | RuntimeException | Error e) {
            thread.shutdown();
            throw e;
        }
        if (created == null) {
            thread.shutdown();
            throw new IOException("nft_ctx_new failed in " + where);
        }
        this.ctx = created;
    }

    /** Why libnftables cannot be loaded, or empty when it can. */
    public static Optional<String> loadError() {
        try {
            Class.forName(LibNftables.class.getName(), true, Nftables.class.getClassLoader());
            return Optional.empty();
        } catch (ClassNotFoundException | LinkageError e) {
            return Optional.of("libnftables.so.1 cannot be loaded: " + e.getMessage());
        }
    }

    /**
     * A context in the namespace named by {@code netns}, or in this process's own namespace when
     * null. Fails if libnftables cannot be loaded (the nftables package provides it with nft).
     */
    public static Nftables open(Path netns) throws IOException {
        if (netns == null) {
            return new Nftables("own netns", Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "nftables");
                t.setDaemon(true);
                return t;
            }));
        }
        return new Nftables("netns " + netns, NetNamespace.at(netns).executor("nftables-" + netns.getFileName()));
    }

    /**
     * Applies {@code script} (nft syntax, several commands) as one transaction: all of it or, on
     * an error, none of it.
     *
     * @param operation what the script is for, with the flows it names, for the error message
     * @return what nft printed (empty for changes)
     */
    public String apply(String operation, String script) throws IOException {
        return submit(operation, script).await();
    }

    /**
     * Starts {@link #apply} on the context's thread and returns at once, so the caller can work
     * while the transaction runs; scripts run in the order they were submitted.
     */
    public synchronized Pending submit(String operation, String script) {
        if (closed) {
            throw new IllegalStateException("nftables context in " + where + " is closed");
        }
        return new Pending(thread.submit(() -> {
            int rc = LibNftables.nft_run_cmd_from_buffer(ctx, script);
            String output = text(LibNftables.nft_ctx_get_output_buffer(ctx));
            String errors = text(LibNftables.nft_ctx_get_error_buffer(ctx));
            if (rc != 0) {
                throw new NftException(operation + " in " + where, errors.isBlank() ? "exit " + rc : errors, script);
            }
            return output;
        }));
    }

    /** A script submitted and perhaps not applied yet. */
    public final class Pending {
        private final Future<String> result;

        private Pending(Future<String> result) {
            this.result = result;
        }

        /** True once the script ran (applied or failed): {@link #await} returns without waiting. */
        public boolean isDone() {
            return result.isDone();
        }

        /** Waits until the script is applied: what nft printed, or its error. */
        public String await() throws IOException {
            return Nftables.this.await(result);
        }
    }

    /** Frees the context on its thread (after any script still queued there) and lets the thread end. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        thread.submit(() -> LibNftables.nft_ctx_free(ctx));
        thread.shutdown();
    }

    /** "3 flows (a, b, c)": how many, and the first few, for an operation's description. */
    public static String describe(Collection<?> flows) {
        StringBuilder text = new StringBuilder().append(flows.size()).append(flows.size() == 1 ? " flow (" : " flows (");
        int shown = 0;
        for (Object f : flows) {
            if (shown == 3) {
                text.append(", ...");
                break;
            }
            text.append(shown++ == 0 ? "" : ", ").append(f);
        }
        return text.append(')').toString();
    }

    @Override
    public String toString() {
        return "nftables in " + where;
    }

    private static String text(Pointer buffer) {
        return buffer == null ? "" : buffer.getString(0);
    }

    private interface Job<T> {
        T run() throws IOException;
    }

    private <T> T onThread(Job<T> job) throws IOException {
        return await(thread.submit(job::run));
    }

    private <T> T await(Future<T> result) throws IOException {
        try {
            return result.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for nftables in " + where, e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (cause instanceof Error error) {
                throw error;
            }
            throw new IOException(cause);
        }
    }
}
