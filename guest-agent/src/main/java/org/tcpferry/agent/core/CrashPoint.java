package org.tcpferry.agent.core;

/**
 * For tests of recovery: a place where {@link Agent#simulateCrashAt} makes the agent stop dead,
 * as a kill -9 would, leaving its journal, its firewall table and the frozen owners as they are;
 * or where {@link Agent#faultAt} lets a test break something around the agent.
 */
public enum CrashPoint {
    NONE,
    /** Handoff: the first connection dumped and detached, its HandoffRequest not sent, the others not dumped. */
    AFTER_DUMP,
    /** Handoff: every HandoffRequest sent, the host's first HandoffAccepted received, no acceptance journaled. */
    BEFORE_ACCEPTANCE_JOURNALED,
    /** Handoff: every reply received and journaled, HandoffComplete not sent. */
    BEFORE_HANDOFF_COMPLETE,
    /** Reclaim: the first connection conformed to its final state (later grants may not have arrived yet), none confirmed. */
    AFTER_FIRST_CONFORM
}
