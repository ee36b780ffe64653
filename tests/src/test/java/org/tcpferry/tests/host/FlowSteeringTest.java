package org.tcpferry.tests.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tcpferry.host.config.SteeringConfig;
import org.tcpferry.host.steer.FlowSteering;
import org.tcpferry.host.steer.NamespaceShell;
import org.tcpferry.protocol.FlowKey;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.rig.Namespace;
import org.tcpferry.rig.Rig;

/** The nft tables, sets, ip rules and routes of {@link FlowSteering}, read back from the kernel. */
@KernelTest
class FlowSteeringTest {

    @Test
    void steerFollowsTheBridgeMacAndCloseRemovesEverything() throws Exception {
        try (Rig rig = Rig.create("flow steering")) {
            Namespace host = rig.namespace("host");
            host.addBridge("brx", "02:77:00:00:10:01");
            FlowKey v4 = new FlowKey(new InetSocketAddress("10.9.0.2", 5000), new InetSocketAddress("10.9.0.1", 40000));
            // Scoped as the codec decodes them from a sockaddr_in6 (scope id 0): nft must not see "%0".
            FlowKey v6 = new FlowKey(
                    new InetSocketAddress(Inet6Address.getByAddress(null, InetAddress.getByName("fd09::2").getAddress(), 0), 5001),
                    new InetSocketAddress(Inet6Address.getByAddress(null, InetAddress.getByName("fd09::1").getAddress(), 0), 40001));
            try (FlowSteering steering = FlowSteering.start(new NamespaceShell(host.file()), SteeringConfig.defaults())) {
                assertThat(host.exec("ip", "rule", "show").stdout()).contains("fwmark 0x7466 lookup 7466");
                assertThat(host.exec("ip", "-6", "rule", "show").stdout()).contains("fwmark 0x7466 lookup 7466");
                assertThat(host.exec("ip", "route", "show", "table", "7466").stdout()).contains("local default dev lo");

                steering.steer("brx", List.of(v4));
                String ruleset = host.exec("nft", "list", "table", "bridge", "tcpferry").stdout();
                assertThat(ruleset).contains("02:77:00:00:10:01").contains("10.9.0.1 . 40000 . 10.9.0.2 . 5000")
                        .contains("meta pkttype set host");

                host.exec("ip", "link", "set", "dev", "brx", "address", "02:77:00:00:10:02");
                steering.steer("brx", List.of(v6));
                ruleset = host.exec("nft", "list", "table", "bridge", "tcpferry").stdout();
                assertThat(ruleset).contains("02:77:00:00:10:02").doesNotContain("02:77:00:00:10:01")
                        .contains("fd09::1 . 40001 . fd09::2 . 5001").contains("10.9.0.1 . 40000");

                steering.unsteer("brx", List.of(v4, v6));
                assertThat(steering.steered("brx")).isEmpty();
                ruleset = host.exec("nft", "list", "table", "bridge", "tcpferry").stdout();
                assertThat(ruleset).doesNotContain("10.9.0.1").doesNotContain("fd09::1");

                // With the MAC unchanged a steer adds only the elements; the rules stay as they are.
                steering.steer("brx", List.of(v4));
                ruleset = host.exec("nft", "list", "table", "bridge", "tcpferry").stdout();
                assertThat(ruleset).contains("02:77:00:00:10:02").contains("10.9.0.1 . 40000 . 10.9.0.2 . 5000")
                        .contains("meta pkttype set host");
                // Tables removed behind the daemon's back (nft flush ruleset, a firewall reload): the next
                // steer writes them again, with the flow steered before as well as the new one.
                host.exec("nft", "delete", "table", "bridge", "tcpferry");
                steering.steer("brx", List.of(v6));
                ruleset = host.exec("nft", "list", "table", "bridge", "tcpferry").stdout();
                assertThat(ruleset).contains("02:77:00:00:10:02").contains("fd09::1 . 40001 . fd09::2 . 5001")
                        .contains("10.9.0.1 . 40000 . 10.9.0.2 . 5000").contains("meta pkttype set host");
                steering.unsteer("brx", List.of(v4, v6));
                assertThat(host.exec("nft", "list", "table", "bridge", "tcpferry").stdout()).doesNotContain("10.9.0.1")
                        .doesNotContain("fd09::1");

                List<FlowKey> thousand = new ArrayList<>();
                for (int i = 0; i < 1000; i++) {
                    thousand.add(new FlowKey(new InetSocketAddress("10.9.0.2", 10000 + i), new InetSocketAddress("10.9.0.1", 443)));
                }
                long start = System.nanoTime();
                steering.steer("brx", thousand);
                long steerMicros = (System.nanoTime() - start) / 1000;
                start = System.nanoTime();
                steering.unsteer("brx", thousand);
                System.out.printf("one nft batch: steer 1000 flows %d us, unsteer %d us%n", steerMicros,
                        (System.nanoTime() - start) / 1000);
                steering.steer("brx", List.of(v4)); // left for close() to remove
            }
            assertThat(host.exec("nft", "list", "tables").stdout()).doesNotContain("tcpferry");
            assertThat(host.exec("ip", "rule", "show").stdout() + host.exec("ip", "-6", "rule", "show").stdout())
                    .doesNotContain("7466");
            assertThat(host.exec("ip", "route", "show", "table", "all").stdout()).doesNotContain("table 7466");
        }
    }
}
