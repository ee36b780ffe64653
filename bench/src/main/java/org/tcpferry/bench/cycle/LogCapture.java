package org.tcpferry.bench.cycle;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * The agent's and host manager's structured log ({@code event=... key=value}) as the benchmark's
 * clock of their phases: every event is kept with the {@link System#nanoTime()} at which it was
 * logged (the appender runs synchronously in the logging thread). Replaces the console output;
 * warnings and errors are still printed to stderr.
 */
final class LogCapture extends AppenderBase<ILoggingEvent> {
    /** One log event: when, and its formatted message. */
    record Event(long nanos, String logger, String message) {
        boolean is(String event) {
            return message.startsWith("event=" + event + " ") || message.equals("event=" + event);
        }

        /** The value of {@code key=value} in the message, or null. */
        String field(String key) {
            int at = message.indexOf(" " + key + "=");
            if (at < 0) {
                return null;
            }
            int from = at + key.length() + 2;
            int to = message.indexOf(' ', from);
            return message.substring(from, to < 0 ? message.length() : to);
        }
    }

    private final List<Event> events = new ArrayList<>();
    /** The last event of each name, so that waiting for one does not scan 10,000 connections' events. */
    private final java.util.concurrent.ConcurrentHashMap<String, Event> latest = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * Installs the capture as the only appender. Debug is on for the four loggers whose debug
     * events mark phase ends (agent: owners frozen; agent firewall: nft ran; host: steering batches,
     * and each copy restored, holding, releasing and released).
     */
    static LogCapture install() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        context.reset();
        LogCapture capture = new LogCapture();
        capture.setContext(context);
        capture.setName("bench-capture");
        capture.start();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        root.addAppender(capture);
        context.getLogger("io.netty").setLevel(Level.WARN);
        context.getLogger("org.tcpferry.agent.core.Agent").setLevel(Level.DEBUG);
        context.getLogger("org.tcpferry.agent.core.GuestFirewall").setLevel(Level.DEBUG);
        context.getLogger("org.tcpferry.host.steer.SteeringBatcher").setLevel(Level.DEBUG);
        context.getLogger("org.tcpferry.host.hold.HeldConnection").setLevel(Level.DEBUG);
        return capture;
    }

    @Override
    protected void append(ILoggingEvent event) {
        ingest(System.nanoTime(), event.getLevel().toString(), event.getLoggerName(), event.getFormattedMessage());
    }

    /** Adds an event logged at {@code nanos} (here, or by another process whose log we read). */
    void ingest(long now, String level, String logger, String message) {
        // Host A answers the benchmark's orders with Acks it has no request for: expected here.
        boolean expected = message.startsWith("event=unmatched_reply");
        if ((level.equals("WARN") || level.equals("ERROR")) && !expected) {
            System.err.println(level + " " + logger + ": " + message);
        }
        Event captured = new Event(now, logger, message);
        synchronized (events) {
            events.add(captured);
        }
        if (message.startsWith("event=")) {
            int end = message.indexOf(' ');
            latest.put(message.substring("event=".length(), end < 0 ? message.length() : end), captured);
        }
    }

    /** The last event named {@code name} if it was logged at or after {@code fromNanos}, else null. */
    Event latest(String name, long fromNanos) {
        Event e = latest.get(name);
        return e != null && e.nanos() >= fromNanos ? e : null;
    }

    /** Every event logged since {@code fromNanos}. */
    List<Event> since(long fromNanos) {
        synchronized (events) {
            List<Event> out = new ArrayList<>();
            for (int i = events.size() - 1; i >= 0 && events.get(i).nanos() >= fromNanos; i--) {
                out.add(events.get(i));
            }
            java.util.Collections.reverse(out);
            return out;
        }
    }

    /** Forgets what was captured, so that 10,000-connection runs do not pile up. */
    void clear() {
        synchronized (events) {
            events.clear();
        }
    }
}
