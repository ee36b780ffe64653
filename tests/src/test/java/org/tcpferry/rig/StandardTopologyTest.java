package org.tcpferry.rig;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tcpferry.rig.StandardTopology.GUEST_V4;
import static org.tcpferry.rig.StandardTopology.GUEST_V6;
import static org.tcpferry.rig.StandardTopology.HOSTA_V4;
import static org.tcpferry.rig.StandardTopology.HOSTA_V6;
import static org.tcpferry.rig.StandardTopology.HOSTB_V4;
import static org.tcpferry.rig.StandardTopology.HOSTB_V6;
import static org.tcpferry.rig.StandardTopology.PEER_V4;
import static org.tcpferry.rig.StandardTopology.PEER_V6;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

@KernelTest
class StandardTopologyTest {
    /** Shared by the tests that only look; migration gets a topology of its own. */
    private static StandardTopology topology;

    @BeforeAll
    static void build() {
        long start = System.nanoTime();
        topology = StandardTopology.create("standard topology test");
        System.out.printf("standard topology built in %d ms%n", (System.nanoTime() - start) / 1_000_000);
    }

    @AfterAll
    static void tearDown() {
        if (topology != null) {
            topology.close();
        }
    }

    @Test
    void peerAndGuestTalkOverIpv4AndIpv6() throws IOException {
        Tcp.roundTrip(topology.peer(), PEER_V4, topology.guest());
        Tcp.roundTrip(topology.guest(), GUEST_V4, topology.peer());
        Tcp.roundTrip(topology.peer(), PEER_V6, topology.guest());
        Tcp.roundTrip(topology.guest(), GUEST_V6, topology.peer());
    }

    @Test
    void hostsTalkToEachOtherAndToTheGuest() throws IOException {
        Tcp.roundTrip(topology.hostB(), HOSTB_V4, topology.hostA());
        Tcp.roundTrip(topology.hostA(), HOSTA_V6, topology.hostB());
        Tcp.roundTrip(topology.guest(), GUEST_V4, topology.hostA());
        Tcp.roundTrip(topology.guest(), GUEST_V6, topology.hostB());
    }

    @Test
    void bridgesHaveFixedMacsAndGuest2WaitsDownWithTheGuestsIdentity() {
        assertThat(topology.hostABridge().mac()).isEqualTo(StandardTopology.HOSTA_MAC);
        assertThat(topology.hostA().exec("ip", "link", "show", "brh").stdout()).contains(StandardTopology.HOSTA_MAC);
        assertThat(topology.hostBBridge().namespace()).isSameAs(topology.hostB());
        assertThat(topology.guest2Link().mac()).isEqualTo(topology.guestLink().mac());
        String guest2 = topology.guest2().exec("ip", "-o", "address", "show", "dev", "eth0").stdout();
        assertThat(guest2).contains(GUEST_V4 + "/24").contains(GUEST_V6 + "/64");
        assertThat(topology.guest2().exec("ip", "-o", "link", "show", "eth0").stdout()).contains("state DOWN");
        assertThat(topology.guest2Link().peer().bridge()).isSameAs(topology.hostBBridge());
    }

    @Test
    void migrationKeepsAnOpenConnectionAndTheGuestReachable() throws IOException {
        String prefix;
        try (StandardTopology own = StandardTopology.create("migration");
                ServerSocket listener = Tcp.listen(own.peer(), PEER_V4)) {
            prefix = own.rig().prefix();
            listener.setSoTimeout(5000);
            InetSocketAddress peer = new InetSocketAddress(InetAddress.getByName(PEER_V4), listener.getLocalPort());
            try (Socket guestSide = Tcp.connect(own.guest(), peer); Socket peerSide = listener.accept()) {
                peerSide.setSoTimeout(5000);
                Tcp.exchange(guestSide, peerSide, "before");

                own.migrateGuest();

                assertThat(own.guestLink().peer().namespace()).isSameAs(own.hostB());
                assertThat(own.guestLink().peer().bridge()).isSameAs(own.hostBBridge());
                assertThat(own.hostA().exec("ip", "-o", "link").stdout()).doesNotContain(own.guestLink().peer().name());
                Tcp.exchange(peerSide, guestSide, "after, peer first");
                Tcp.exchange(guestSide, peerSide, "after, guest second");
            }
            Tcp.roundTrip(own.guest(), GUEST_V6, own.peer());
            Tcp.roundTrip(own.guest(), GUEST_V4, own.hostB());
        }
        assertThat(RigTest.ipNetnsList()).noneMatch(name -> name.startsWith(prefix));
    }

    @Test
    void migrationAnnouncesAGuestThatSaysNothingByItself() throws IOException {
        try (StandardTopology own = StandardTopology.create("quiet migration")) {
            // With IPv6 on, link-up traffic (MLD, router solicitations) would teach the switch anyway.
            own.guest().sysctl("net.ipv6.conf.eth0.disable_ipv6", "1");
            try (ServerSocket listener = Tcp.listen(own.peer(), PEER_V4)) {
                listener.setSoTimeout(5000);
                InetSocketAddress peer = new InetSocketAddress(InetAddress.getByName(PEER_V4), listener.getLocalPort());
                try (Socket guestSide = Tcp.connect(own.guest(), peer); Socket peerSide = listener.accept()) {
                    Tcp.exchange(guestSide, peerSide, "before");
                    own.migrateGuest();
                    // The peer speaks first: only the announce can have told the switch where the guest is.
                    guestSide.setSoTimeout(1000);
                    Tcp.exchange(peerSide, guestSide, "after");
                }
            }
        }
    }
}
