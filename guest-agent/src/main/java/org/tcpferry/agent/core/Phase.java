package org.tcpferry.agent.core;

/**
 * Where one carried connection is, as shown in logs, status and the journal.
 *
 * <pre>
 * SELECTED -> FROZEN -> DUMPED -> HANDED_OFF -> RECLAIMING -> CONFORMED
 *                          \            \____(release aborted)___/
 *                           \-> ROLLED_BACK (refused, channel lost before acceptance, restart)
 * any step that cannot complete and cannot be undone -> FAILED
 * </pre>
 */
public enum Phase {
    /** Matched the handoff order's selection. */
    SELECTED,
    /** Its owners are frozen and its flow is blocked in the guest. */
    FROZEN,
    /** Dumped and detached (CLOSE, no timers); the dump is journaled. */
    DUMPED,
    /** The host holds a copy; the agent keeps the token. */
    HANDED_OFF,
    /** ReleaseRequest sent; the socket may already be conformed but the host has not confirmed. */
    RECLAIMING,
    /** The original socket carries the connection again, with the host's final state. */
    CONFORMED,
    /** The original socket carries the connection again, from the agent's own dump (the host never took it). */
    ROLLED_BACK,
    /** Could not be carried and could not be restored; the application will see an error on it. */
    FAILED;

    /** Nothing more will happen to it: its flow may be unblocked and its owners thawed. */
    public boolean settled() {
        return this == CONFORMED || this == ROLLED_BACK || this == FAILED;
    }
}
