package org.tcpferry.repair;

/**
 * How {@link TcpRepair#restore} creates the new socket.
 *
 * @param transparent set IP_TRANSPARENT / IPV6_TRANSPARENT so the socket can own an address this
 *     host does not have (the host's copy of a guest connection)
 * @param mark SO_MARK for the socket's packets, 0 for none
 */
public record RestoreOptions(boolean transparent, int mark) {
    /** A socket on an address of this network namespace: the guest's own, or a test's. */
    public static RestoreOptions plain() {
        return new RestoreOptions(false, 0);
    }

    /** A transparent socket for an address the host does not own, with packets marked {@code mark}. */
    public static RestoreOptions transparent(int mark) {
        return new RestoreOptions(true, mark);
    }
}
