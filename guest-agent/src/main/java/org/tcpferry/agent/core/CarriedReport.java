package org.tcpferry.agent.core;

/**
 * What one connection's trip through the host carried, reported when it is back.
 *
 * @param flow the guest's view, local then remote
 * @param phase CONFORMED, ROLLED_BACK or FAILED
 * @param bytesFromPeer bytes the host received from the peer for it (delivered to the application)
 * @param bytesToPeer bytes the application had queued that the peer acknowledged while the host held it
 * @param heldMillis time from the host's acceptance to the socket carrying it again; 0 if never handed off
 * @param note why it FAILED or what went wrong on the way (e.g. the peer reset it); empty if nothing
 */
public record CarriedReport(String flow, Phase phase, long bytesFromPeer, long bytesToPeer, long heldMillis, String note) {
}
