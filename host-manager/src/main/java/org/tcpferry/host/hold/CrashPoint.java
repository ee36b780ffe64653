package org.tcpferry.host.hold;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * For the fault-matrix tests: a step of a hold's life where the host manager kills itself with
 * SIGKILL when the environment names it ({@code TCPFERRY_CRASH_AT=AFTER_RESTORE}), so that a test
 * can kill it at exactly that step. Unset (production), nothing happens.
 */
public enum CrashPoint {
    /** Handoff: the copy is restored and kept, its flow not yet steered, HandoffAccepted not sent. */
    AFTER_RESTORE,
    /** Release: the flow is unsteered, the copy dumped and closed (the keeper has it), ReleaseGranted not sent. */
    AFTER_RELEASE_DUMP,
    /** Confirm: the guest conformed and confirmed; the copy is not yet discarded. */
    BEFORE_CONFIRM_DISCARD;

    private static final Logger log = LoggerFactory.getLogger(CrashPoint.class);
    private static final String CHOSEN = System.getenv().getOrDefault("TCPFERRY_CRASH_AT", "");

    /** Dies here, by SIGKILL, if this is the chosen point. */
    void reached() {
        if (!name().equals(CHOSEN)) {
            return;
        }
        log.warn("event=crash_point point={} pid={}", this, ProcessHandle.current().pid());
        org.tcpferry.sys.SelfKill.now();
    }
}
