package org.tcpferry.protocol;

import java.util.List;

/**
 * Which of a guest's connections to hand off. A connection is selected when it matches every
 * non-empty list (and any entry within a list); an empty list is no constraint.
 *
 * @param processNames names (comm) of processes owning the socket
 * @param cgroups cgroup v2 paths of owning processes
 * @param uids socket owners' user ids
 */
public record Selection(List<PortRange> localPorts, List<PortRange> remotePorts, List<String> processNames,
        List<String> cgroups, List<Integer> uids) {

    public Selection {
        localPorts = List.copyOf(localPorts);
        remotePorts = List.copyOf(remotePorts);
        processNames = List.copyOf(processNames);
        cgroups = List.copyOf(cgroups);
        uids = List.copyOf(uids);
    }

    /** Every connection. */
    public static Selection all() {
        return new Selection(List.of(), List.of(), List.of(), List.of(), List.of());
    }
}
