package org.tcpferry.rig;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

@KernelTest
class RigTest {

    @Test
    void namespacesCarryThePrefixAndStartWithLoopbackUpAndForwardingOff() {
        try (Rig rig = Rig.create("naming")) {
            assertThat(rig.prefix()).matches("tf[0-9a-z]{5}[0-9a-z]+");
            assertThat(RigNames.pidOf(rig.prefix() + "-x")).hasValue(ProcessHandle.current().pid());
            Namespace ns = rig.namespace("alpha");
            assertThat(ns.name()).isEqualTo(rig.prefix() + "-alpha");
            assertThat(rig.namespace("alpha")).isSameAs(ns);
            assertThat(ipNetnsList()).contains(ns.name());
            assertThat(ns.exec("ip", "-o", "link", "show", "lo").stdout()).contains("UP");
            assertThat(ns.sysctl("net.ipv4.ip_forward")).isEqualTo("0");
            assertThat(ns.sysctl("net.ipv6.conf.all.accept_dad")).isEqualTo("0");
        }
    }

    @Test
    void closeRemovesEveryNamespaceAndLinkWithThePrefix() {
        Rig rig = Rig.create("close");
        Namespace a = rig.namespace("a");
        Namespace b = rig.namespace("b");
        Bridge bridge = b.addBridge("br0", "02:00:00:00:00:01");
        a.attach(bridge, "eth0");
        a.link(b, "eth1", "eth1");
        rig.close();
        assertThat(ipNetnsList()).noneMatch(name -> name.startsWith(rig.prefix()));
        assertThat(rootLinks()).noneMatch(name -> name.startsWith(rig.prefix()));
        rig.close(); // a second close does nothing
        assertThatThrownBy(() -> rig.namespace("late")).isInstanceOf(RigException.class);
    }

    @Test
    void aTestThatThrowsMidwayStillCleansUp() {
        String[] prefix = new String[1];
        assertThatThrownBy(() -> {
            try (Rig rig = Rig.create("throws")) {
                prefix[0] = rig.prefix();
                rig.namespace("one").spawn("sleep", "600");
                rig.namespace("two");
                throw new IllegalStateException("the test failed half-way");
            }
        }).hasMessage("the test failed half-way");
        assertThat(ipNetnsList()).noneMatch(name -> name.startsWith(prefix[0]));
    }

    @Test
    void closeKillsSpawnedProcessesAndStrangersInItsNamespaces() throws Exception {
        Process spawned;
        Process stubborn;
        Process stranger;
        try (Rig rig = Rig.create("processes")) {
            Namespace ns = rig.namespace("p");
            spawned = ns.spawn("sleep", "600");
            // Ignores SIGTERM and keeps starting children: needs the SIGKILL and the namespace sweep.
            stubborn = ns.spawn("sh", "-c", "trap '' TERM; while :; do sleep 1; done");
            // Started behind the rig's back: it would keep the namespace alive after ip netns delete.
            stranger = new ProcessBuilder(Tools.require("nsenter"), "--net=" + ns.file(), "sleep", "600").start();
            awaitInside(ns, spawned.pid(), stubborn.pid(), stranger.pid());
        }
        assertThat(spawned.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(stubborn.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(stranger.waitFor(5, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void aFailingCommandReportsCommandExitCodeAndStderr() {
        try (Rig rig = Rig.create("exec")) {
            Namespace ns = rig.namespace("e");
            assertThatThrownBy(() -> ns.exec("ip", "link", "show", "nosuchlink"))
                    .isInstanceOf(RigException.class)
                    .hasMessageContaining("ip link show nosuchlink")
                    .hasMessageContaining("exited with 1")
                    .hasMessageContaining("does not exist");
            ExecResult result = ns.execAllowFailure("sh", "-c", "echo out; echo err >&2; exit 3");
            assertThat(result).isEqualTo(new ExecResult(3, "out\n", "err\n"));
        }
    }

    @Test
    void nftAndSysctlActInsideTheNamespaceOnly() {
        try (Rig rig = Rig.create("nft")) {
            Namespace ns = rig.namespace("n");
            String table = rig.prefix() + "_t";
            ns.nft("table inet " + table + " {\n chain c { type filter hook input priority 0; }\n}\n");
            assertThat(ns.exec("nft", "list", "tables").stdout()).contains("table inet " + table);
            assertThat(Commands.check(List.of(Tools.require("nft"), "list", "tables"), null).stdout()).doesNotContain(table);
            ns.sysctl("net.ipv4.ip_forward", "1");
            assertThat(ns.exec("cat", "/proc/sys/net/ipv4/ip_forward").stdout().strip())
                    .as("a process in the namespace sees it").isEqualTo("1");
            assertThat(rootSysctl("net/ipv4/ip_forward")).as("the root namespace does not").isEqualTo("0");
            // Values longer than one character come back whole (sysctl files end reads not at offset 0).
            assertThat(ns.sysctl("net.core.somaxconn"))
                    .isEqualTo(ns.exec("cat", "/proc/sys/net/core/somaxconn").stdout().strip())
                    .hasSizeGreaterThan(1);
        }
    }

    @Test
    void plainLinkCarriesTcpOverIpv4AndIpv6() throws IOException {
        try (Rig rig = Rig.create("link")) {
            Namespace left = rig.namespace("left");
            Namespace right = rig.namespace("right");
            Interface end = left.link(right, "l0", "r0");
            assertThat(end.peer().name()).isEqualTo("r0");
            assertThat(end.peer().namespace()).isSameAs(right);
            end.addAddress("10.9.0.1/24").addAddress("fd09::1/64");
            end.addAddress("fd09::1/64"); // idempotent
            end.peer().addAddress("10.9.0.2/24").addAddress("fd09::2/64");
            Tcp.roundTrip(right, "10.9.0.2", left);
            Tcp.roundTrip(left, "fd09::1", right);
        }
    }

    @Test
    void attachedInterfaceReachesTheBridgeAndMovesToAnotherOne() throws IOException {
        try (Rig rig = Rig.create("attach")) {
            Namespace host = rig.namespace("host");
            Namespace vm = rig.namespace("vm");
            Namespace other = rig.namespace("other");
            Bridge first = host.addBridge("br0", "02:00:00:00:00:10").addAddress("10.8.0.1/24");
            Bridge second = other.addBridge("br1", "02:00:00:00:00:20").addAddress("10.8.0.1/24");
            Interface tap = vm.attach(first, "eth0").addAddress("10.8.0.2/24");
            assertThat(tap.peer().bridge()).isSameAs(first);
            assertThat(tap.peer().name()).startsWith(rig.prefix()).hasSizeLessThanOrEqualTo(15);
            Tcp.roundTrip(host, "10.8.0.1", vm);

            tap.moveToBridge(second);
            assertThat(tap.peer().bridge()).isSameAs(second);
            assertThat(tap.peer().namespace()).isSameAs(other);
            assertThat(host.exec("ip", "-o", "link").stdout()).doesNotContain(tap.peer().name());
            vm.exec("ip", "neigh", "flush", "all");
            Tcp.roundTrip(other, "10.8.0.1", vm);
            assertThat(host.exec("ip", "link", "show", "br0").stdout()).contains("02:00:00:00:00:10");
        }
    }

    @Test
    void sweepStaleRemovesNamespacesOfDeadPidsOnly() throws Exception {
        Process shortLived = new ProcessBuilder("true").start();
        shortLived.waitFor();
        String dead = RigNames.namespace(RigNames.prefix(shortLived.pid(), 0), "left");
        // Our own pid with a counter this JVM will not reach: alive, so it must survive the sweep.
        String alive = RigNames.namespace(RigNames.prefix(ProcessHandle.current().pid(), 36L * 36 * 36 * 36), "kept");
        // Shaped like a rig's name, but its "pid" zzzzz (60,466,175) exceeds any pid_max: someone else's.
        String lookalike = "tfzzzzz" + Long.toString(ProcessHandle.current().pid(), 36) + "-lookalike";
        String ip = Tools.require("ip");
        try {
            Commands.check(List.of(ip, "netns", "add", dead), null);
            Commands.check(List.of(ip, "netns", "add", alive), null);
            Commands.check(List.of(ip, "netns", "add", lookalike), null);
            Rig.sweepStale();
            assertThat(ipNetnsList()).doesNotContain(dead).contains(alive, lookalike);
        } finally {
            for (String name : List.of(dead, alive, lookalike)) {
                if (Files.exists(Rig.namespaceFile(name))) {
                    Commands.check(List.of(ip, "netns", "delete", name), null);
                }
            }
        }
    }

    /** nsenter enters the namespace a moment after it starts: wait for both to be inside. */
    private static void awaitInside(Namespace ns, long... pids) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        List<Long> wanted = Arrays.stream(pids).boxed().collect(Collectors.toList());
        while (!NamespaceProcesses.in(ns.file()).containsAll(wanted)) {
            assertThat(System.nanoTime()).as("processes %s entered %s", wanted, ns).isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    static List<String> ipNetnsList() {
        String out = Commands.check(List.of(Tools.require("ip"), "netns", "list"), null).stdout();
        return out.lines().map(line -> line.split(" ")[0]).collect(Collectors.toList());
    }

    static List<String> rootLinks() {
        try (Stream<Path> links = Files.list(Path.of("/sys/class/net"))) {
            return links.map(p -> p.getFileName().toString()).collect(Collectors.toList());
        } catch (IOException e) {
            throw new RigException("cannot list /sys/class/net", e);
        }
    }

    private static String rootSysctl(String path) {
        try {
            return ProcFiles.read(Path.of("/proc/sys", path));
        } catch (IOException e) {
            throw new RigException("cannot read " + path, e);
        }
    }
}
