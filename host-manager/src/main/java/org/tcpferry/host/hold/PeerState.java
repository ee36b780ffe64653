package org.tcpferry.host.hold;

/** What the peer did while the host held its connection. */
public enum PeerState {
    /** Still sending, or silent. */
    OPEN,
    /** Sent FIN: the copy ACKed it and holds the connection half-closed. */
    FIN,
    /** Reset the connection; nothing is left to hand back but the fact. */
    RESET,
    /** The copy's own timers gave up on the peer (e.g. the guest's TCP_USER_TIMEOUT). */
    LOST
}
