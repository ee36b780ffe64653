package org.tcpferry.host.hold;

import org.tcpferry.protocol.FlowKey;

/**
 * Where a copy's descriptor and what it takes to rebuild its {@link HeldConnection} are kept
 * outside the host manager's process, so that a host manager killed with SIGKILL does not take
 * the held connections with it (see {@code org.tcpferry.host.keeper}). Calls come from the copy
 * loops; an implementation never throws: a keeper it cannot reach costs restart survival, never
 * the hold itself, and is logged.
 */
public interface CopyKeeper {
    /** Keeps (or replaces) the descriptor and record of {@code flow}. */
    void keep(FlowKey flow, KeptCopy record, int copyFd);

    /** Forgets {@code flow} and closes the keeper's duplicate of its copy. */
    void drop(FlowKey flow);

    /** No keeper: a host manager that dies drops what it held. */
    CopyKeeper NONE = new CopyKeeper() {
        @Override
        public void keep(FlowKey flow, KeptCopy record, int copyFd) {
        }

        @Override
        public void drop(FlowKey flow) {
        }
    };
}
