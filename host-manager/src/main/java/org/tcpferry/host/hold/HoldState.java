package org.tcpferry.host.hold;

/**
 * Where a held connection is in its life. The same names appear in code, logs and status.
 * RESTORING -> HOLDING -> RELEASING -> RELEASED, or back from RELEASING to HOLDING when a release
 * is aborted; FAILED when the copy could not be made or kept; EXPIRED when nobody reclaimed it in time.
 */
public enum HoldState {
    /** The copy socket is being created; its flow is not steered yet. */
    RESTORING,
    /** The copy is steered, ACKing and spooling what the peer sends. */
    HOLDING,
    /** The flow is unsteered and the copy dumped; waiting for the requester to confirm. */
    RELEASING,
    /** The requester confirmed; nothing of the connection is left on this host. */
    RELEASED,
    /** The copy could not be made or was lost; see the error. */
    FAILED,
    /** Nobody reclaimed it within quotas.holdSeconds: unsteered, the copy reset the peer, all freed. */
    EXPIRED
}
