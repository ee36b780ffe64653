package org.tcpferry.repair;

/**
 * The options an application may have set on its socket, carried with the connection so that the
 * copy and the conformed original behave as the application asked.
 *
 * <p>{@code receiveBuffer} and {@code sendBuffer} are 0 in a dump: nothing applied them (setting
 * a buffer size turns off the kernel's autotuning, which the application may never have asked
 * for; a restore raises a buffer only where the queued data needs room), so the dump no longer
 * reads them. They stay in the record and the wire format (ConnectionStateCodec) so that states
 * written by older agents and hosts still decode.
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
