package org.tcpferry.rig;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;

/**
 * The network most tests need: a guest VM on host A talking to a peer, and a host B it can move to.
 *
 * <pre>
 *   peer (10.77.0.1, fd77::1)
 *     |
 *   sw/br0  ---- uplink ---- hostA/brh (10.77.0.11, fd77::11) ---- guest  (10.77.0.2, fd77::2)
 *           ---- uplink ---- hostB/brh (10.77.0.12, fd77::12) ---- guest2 (same addresses and MAC, DOWN)
 * </pre>
 *
 * All of it is one layer-2 segment 10.77.0.0/24, fd77::/64. Every bridge has a fixed MAC, so a bridge's
 * own address does not change when a port leaves it. {@code guest2} stands for the guest restored on
 * host B: it has the guest's addresses and MAC, so a peer's neighbour cache stays right when it takes
 * over, and its link is down until a test brings it up.
 */
public final class StandardTopology implements AutoCloseable {
    public static final String PEER_V4 = "10.77.0.1";
    public static final String GUEST_V4 = "10.77.0.2";
    public static final String HOSTA_V4 = "10.77.0.11";
    public static final String HOSTB_V4 = "10.77.0.12";
    public static final String PEER_V6 = "fd77::1";
    public static final String GUEST_V6 = "fd77::2";
    public static final String HOSTA_V6 = "fd77::11";
    public static final String HOSTB_V6 = "fd77::12";
    public static final String BROADCAST_V4 = "10.77.0.255";

    public static final String SWITCH_MAC = "02:77:00:00:00:ff";
    public static final String HOSTA_MAC = "02:77:00:00:00:11";
    public static final String HOSTB_MAC = "02:77:00:00:00:12";
    public static final String PEER_MAC = "02:77:00:00:00:01";
    /** The guest's MAC, which guest2 shares. */
    public static final String GUEST_MAC = "02:77:00:00:00:02";

    /** The name of the links in peer, guest and guest2, and of the host bridges. */
    public static final String GUEST_IFNAME = "eth0";
    public static final String HOST_BRIDGE = "brh";
    public static final String SWITCH_BRIDGE = "br0";

    private final Rig rig;
    private final Namespace sw;
    private final Namespace hostA;
    private final Namespace hostB;
    private final Namespace peer;
    private final Namespace guest;
    private final Namespace guest2;
    private final Bridge switchBridge;
    private final Bridge hostABridge;
    private final Bridge hostBBridge;
    private final Interface peerLink;
    private final Interface guestLink;
    private final Interface guest2Link;

    private StandardTopology(Rig rig) {
        this.rig = rig;
        sw = rig.namespace("sw");
        switchBridge = sw.addBridge(SWITCH_BRIDGE, SWITCH_MAC);

        hostA = rig.namespace("hostA");
        hostABridge = host(hostA, HOSTA_MAC, HOSTA_V4, HOSTA_V6);
        hostB = rig.namespace("hostB");
        hostBBridge = host(hostB, HOSTB_MAC, HOSTB_V4, HOSTB_V6);

        peer = rig.namespace("peer");
        peerLink = endpoint(peer, switchBridge, PEER_MAC, PEER_V4, PEER_V6, true);
        guest = rig.namespace("guest");
        guestLink = endpoint(guest, hostABridge, GUEST_MAC, GUEST_V4, GUEST_V6, true);
        guest2 = rig.namespace("guest2");
        guest2Link = endpoint(guest2, hostBBridge, GUEST_MAC, GUEST_V4, GUEST_V6, false);
    }

    /**
     * Builds the topology in a new rig. If building fails half-way the rig is closed before the
     * exception leaves, so nothing is left behind.
     */
    public static StandardTopology create(String purpose) {
        Rig rig = Rig.create(purpose);
        try {
            return new StandardTopology(rig);
        } catch (RuntimeException e) {
            try {
                rig.close();
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    /** A host: bridge brh with a fixed MAC and the host's addresses, an uplink port to the switch. */
    private Bridge host(Namespace host, String mac, String v4, String v6) {
        Bridge bridge = host.addBridge(HOST_BRIDGE, mac);
        host.attach(switchBridge, "uplink").enslave(bridge);
        host.ip("address replace " + v4 + "/24 dev " + HOST_BRIDGE + "\n"
                + "address replace " + v6 + "/64 dev " + HOST_BRIDGE + " nodad\n");
        return bridge;
    }

    /** A VM-like endpoint: eth0 with a fixed MAC and both addresses, a port on {@code bridge}. */
    private static Interface endpoint(Namespace ns, Bridge bridge, String mac, String v4, String v6, boolean up) {
        Interface link = ns.attach(bridge, GUEST_IFNAME, mac, up);
        ns.ip("address replace " + v4 + "/24 dev " + GUEST_IFNAME + "\n"
                + "address replace " + v6 + "/64 dev " + GUEST_IFNAME + " nodad\n");
        return link;
    }

    /**
     * Moves the guest's tap from host A's bridge to host B's, as a live migration does, then announces
     * the guest from its new place with one broadcast frame, as a hypervisor does after migrating (QEMU
     * sends RARP): without it the switch keeps sending the guest's frames to host A until its MAC ages
     * out (300 s).
     */
    public void migrateGuest() {
        guestLink.moveToBridge(hostBBridge);
        announce(guest);
    }

    /** One UDP broadcast from {@code ns}: every bridge on the way learns where its MAC now is. */
    public static void announce(Namespace ns) {
        try {
            ns.netns().run(() -> {
                try (DatagramSocket socket = new DatagramSocket()) {
                    socket.setBroadcast(true);
                    byte[] hello = "tcpferry-announce".getBytes(StandardCharsets.US_ASCII);
                    // Port 9 is discard: nobody answers, and a broadcast draws no ICMP error.
                    socket.send(new DatagramPacket(hello, hello.length, InetAddress.getByName(BROADCAST_V4), 9));
                }
            });
        } catch (IOException e) {
            throw new RigException("cannot announce " + ns.name() + " after moving it: " + e.getMessage(), e);
        }
    }

    public Rig rig() {
        return rig;
    }

    public Namespace sw() {
        return sw;
    }

    public Namespace hostA() {
        return hostA;
    }

    public Namespace hostB() {
        return hostB;
    }

    public Namespace peer() {
        return peer;
    }

    public Namespace guest() {
        return guest;
    }

    public Namespace guest2() {
        return guest2;
    }

    public Interface peerLink() {
        return peerLink;
    }

    public Interface guestLink() {
        return guestLink;
    }

    public Interface guest2Link() {
        return guest2Link;
    }

    public Bridge switchBridge() {
        return switchBridge;
    }

    public Bridge hostABridge() {
        return hostABridge;
    }

    public Bridge hostBBridge() {
        return hostBBridge;
    }

    /** Closes the rig: everything above is removed. */
    @Override
    public void close() {
        rig.close();
    }
}
