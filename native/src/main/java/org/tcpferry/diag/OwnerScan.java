package org.tcpferry.diag;

import java.util.List;
import java.util.Map;

/**
 * The result of one {@link SocketOwners#scan}: who holds each socket that was asked for, and
 * which processes could not be looked into.
 *
 * @param owners       socket inode to the descriptors that refer to it; an inode nobody holds is
 *                     absent. A socket shared by several processes (after fork, SCM_RIGHTS or
 *                     pidfd_getfd) or several descriptors (dup) has several owners.
 * @param deniedPids   processes whose descriptor table this process may not read (EACCES): an
 *                     owner among them would be missing from {@code owners}. Empty when running
 *                     as root or with CAP_SYS_PTRACE.
 */
public record OwnerScan(Map<Long, List<SocketOwner>> owners, List<Integer> deniedPids) {

    public OwnerScan {
        owners = Map.copyOf(owners);
        deniedPids = List.copyOf(deniedPids);
    }

    /** Whether every process could be looked into, so that an absent inode really has no owner. */
    public boolean complete() {
        return deniedPids.isEmpty();
    }
}
