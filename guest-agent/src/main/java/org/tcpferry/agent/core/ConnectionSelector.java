package org.tcpferry.agent.core;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tcpferry.diag.SocketDiag;
import org.tcpferry.diag.SocketOwner;
import org.tcpferry.diag.SocketOwners;
import org.tcpferry.diag.TcpSocketInfo;
import org.tcpferry.protocol.PortRange;
import org.tcpferry.protocol.Selection;
import org.tcpferry.repair.TcpState;

/**
 * Finds the guest's connections that a handoff order selects: carriable TCP sockets from
 * sock_diag, their owners from /proc, matched against the {@link Selection}. Never the agent's own
 * sockets (its channel among them), never loopback flows (no host can carry those), never sockets
 * that no process holds. Must run on a thread inside the guest's network namespace.
 */
public final class ConnectionSelector {
    private static final Set<TcpState> CARRIABLE = EnumSet.of(TcpState.ESTABLISHED, TcpState.CLOSE_WAIT,
            TcpState.FIN_WAIT1, TcpState.FIN_WAIT2, TcpState.LAST_ACK);

    private final long ownPid = ProcessHandle.current().pid();

    /** A selected socket and the processes that hold it (the first one is reached for its descriptor). */
    public record Candidate(TcpSocketInfo socket, List<SocketOwner> owners) {
    }

    public List<Candidate> select(Selection selection, Set<String> excludedFlows) throws IOException {
        List<TcpSocketInfo> sockets = new ArrayList<>();
        Set<Long> inodes = new HashSet<>();
        for (TcpSocketInfo s : SocketDiag.listTcp(CARRIABLE)) {
            if (s.inode() != 0 && !loopback(s) && !excludedFlows.contains(s.flow()) && portsMatch(selection, s)
                    && (selection.uids().isEmpty() || selection.uids().contains(s.uid()))) {
                sockets.add(s);
                inodes.add(s.inode());
            }
        }
        Map<Long, List<SocketOwner>> owners = SocketOwners.find(inodes);
        List<Candidate> selected = new ArrayList<>();
        for (TcpSocketInfo s : sockets) {
            List<SocketOwner> holders = owners.get(s.inode());
            if (holders == null || holders.stream().anyMatch(o -> o.pid() == ownPid)) {
                continue;
            }
            if (ownersMatch(selection, holders)) {
                selected.add(new Candidate(s, holders));
            }
        }
        return selected;
    }

    private static boolean loopback(TcpSocketInfo s) {
        return s.local().getAddress().isLoopbackAddress() || s.remote().getAddress().isLoopbackAddress();
    }

    private static boolean portsMatch(Selection selection, TcpSocketInfo s) {
        return inRanges(selection.localPorts(), s.local()) && inRanges(selection.remotePorts(), s.remote());
    }

    private static boolean inRanges(List<PortRange> ranges, InetSocketAddress address) {
        return ranges.isEmpty() || ranges.stream().anyMatch(r -> r.contains(address.getPort()));
    }

    private static boolean ownersMatch(Selection selection, List<SocketOwner> holders) {
        boolean names = selection.processNames().isEmpty()
                || holders.stream().anyMatch(o -> selection.processNames().contains(o.comm()));
        boolean cgroups = selection.cgroups().isEmpty() || holders.stream().anyMatch(o -> selection.cgroups().stream()
                .anyMatch(c -> o.cgroup().equals(c) || o.cgroup().startsWith(c.endsWith("/") ? c : c + "/")));
        return names && cgroups;
    }
}
