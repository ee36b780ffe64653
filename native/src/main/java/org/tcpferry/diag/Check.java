package org.tcpferry.diag;

/**
 * The outcome of probing one {@link Feature}.
 *
 * @param feature   what was probed
 * @param available whether it is there and usable
 * @param detail    what was found (a path, a count) or why it is not usable (the failed call and errno)
 */
public record Check(Feature feature, boolean available, String detail) {}
