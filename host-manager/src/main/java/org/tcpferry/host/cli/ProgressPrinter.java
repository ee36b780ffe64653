package org.tcpferry.host.cli;

import java.io.PrintWriter;
import org.tcpferry.protocol.Progress;

/**
 * Prints a long command's steps on stderr, one line per step and per progress report:
 * {@code tcpferry save: [handoff] 3/10 connections, 1.2 MB (0.4 s)}. stdout stays for the result.
 */
final class ProgressPrinter {
    private final String command;
    private final PrintWriter err;
    private final long started = System.nanoTime();

    ProgressPrinter(String command, PrintWriter err) {
        this.command = command;
        this.err = err;
    }

    /** A step begins. */
    void phase(String phase, String what) {
        line(phase, what);
    }

    /** The daemon's (or libvirt's) progress in a step. */
    void progress(Progress progress) {
        String counts = progress.total() > 0 ? progress.done() + "/" + progress.total() + " connections" : "";
        String bytes = progress.bytes() > 0 ? bytes(progress.bytes()) : "";
        line(progress.phase(), counts + (!counts.isEmpty() && !bytes.isEmpty() ? ", " : "") + bytes);
    }

    /** Bytes of a libvirt job (save, migration). */
    void job(String phase, long done, long total) {
        line(phase, bytes(done) + (total > 0 ? " of " + bytes(total) : ""));
    }

    long elapsedMillis() {
        return (System.nanoTime() - started) / 1_000_000;
    }

    private void line(String phase, String what) {
        err.printf("tcpferry %s: [%s] %s (%.1f s)%n", command, phase, what, elapsedMillis() / 1000.0);
        err.flush();
    }

    static String bytes(long n) {
        if (n < 10_000) {
            return n + " B";
        }
        if (n < 10_000_000) {
            return String.format("%.1f kB", n / 1e3);
        }
        return String.format("%.1f MB", n / 1e6);
    }
}
