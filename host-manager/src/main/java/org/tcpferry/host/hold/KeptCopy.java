package org.tcpferry.host.hold;

/**
 * What a restarted host manager needs, beside the copy's descriptor, to hold a connection again.
 * The flow itself is read from the descriptor.
 *
 * @param domain the domain the connection belongs to
 * @param token the token issued at handoff (base64), so that the guest's release still verifies
 * @param bytesToPeer what the guest had queued for the peer at handoff (status only)
 * @param sinceEpochMillis when the handoff happened (for the expiry policy)
 * @param spoolStartSeq the peer's sequence number of the spool's first byte: the spool always
 *     holds exactly the bytes from there up to the copy's copied_seq
 * @param spoolFile the spool's file
 * @param accepted whether the copy held the connection (steered, HandoffAccepted on its way); a
 *     copy that was still being made when the host manager died is not the guest's any more (the
 *     agent rolled back on losing the channel) and is closed silently
 */
public record KeptCopy(String domain, String token, long bytesToPeer, long sinceEpochMillis, int spoolStartSeq,
        String spoolFile, boolean accepted) {
}
