package org.tcpferry.repair;

/**
 * The options an application may have set on its socket, carried with the connection so that the
 * copy and the conformed original behave as the application asked.
 *
 * <p>Buffer sizes are the values getsockopt reports (the kernel doubles what was set). They are
 * recorded, but applied only where the queued data needs room: setting a buffer size turns off
 * the kernel's autotuning for that socket, which the application may never have asked for.
 *
 * @param keepIdleSeconds TCP_KEEPIDLE
 * @param keepIntervalSeconds TCP_KEEPINTVL
 * @param keepCount TCP_KEEPCNT
 * @param userTimeoutMillis TCP_USER_TIMEOUT, 0 when unset
 */
public record SocketOptions(
        boolean noDelay,
        boolean keepAlive,
        int keepIdleSeconds,
        int keepIntervalSeconds,
        int keepCount,
        int userTimeoutMillis,
        int receiveBuffer,
        int sendBuffer) {}
