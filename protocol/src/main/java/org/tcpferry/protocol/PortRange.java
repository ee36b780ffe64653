package org.tcpferry.protocol;

/** The ports {@code from..to}, both included. */
public record PortRange(int from, int to) {
    public PortRange {
        if (from < 0 || to > 0xffff || from > to) {
            throw new IllegalArgumentException("bad port range " + from + ".." + to);
        }
    }

    /** A single port. */
    public static PortRange of(int port) {
        return new PortRange(port, port);
    }

    public boolean contains(int port) {
        return port >= from && port <= to;
    }

    @Override
    public String toString() {
        return from == to ? Integer.toString(from) : from + "-" + to;
    }
}
