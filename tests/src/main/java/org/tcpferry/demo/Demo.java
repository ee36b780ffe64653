package org.tcpferry.demo;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.tcpferry.agent.core.Agent;
import org.tcpferry.agent.core.AgentConfig;
import org.tcpferry.agent.core.Carried;
import org.tcpferry.agent.core.CarriedReport;
import org.tcpferry.agent.core.Phase;
import org.tcpferry.host.HostManager;
import org.tcpferry.host.net.Envelope;
import org.tcpferry.protocol.HandoffOrder;
import org.tcpferry.protocol.Message;
import org.tcpferry.protocol.PortRange;
import org.tcpferry.protocol.Selection;
import org.tcpferry.rig.HostPair;
import org.tcpferry.rig.StandardTopology;
import org.tcpferry.sys.LibC;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.SockOpt;

/**
 * {@code bin/demo}: the whole story in network namespaces, live. A guest application (bash holding
 * a TCP connection on fd 3, with cat echoing it) talks to a peer that gives up 3 s after the guest
 * goes silent. A second, identical connection is the control: tcpferry does not carry it. The
 * guest agent hands the first to host A's manager; the guest is suspended (its link down) for a
 * while, moves to host B, and takes its connection back in place. A verdict lists what was checked;
 * the exit status is 0 only if everything held.
 */
public final class Demo {
    private static final String DOMAIN = "demo-vm";
    private static final int CARRIED_PORT = 8001;
    private static final int CONTROL_PORT = 8002;

    private final List<String> verdict = new ArrayList<>();
    private boolean allPassed = true;

    public static void main(String[] args) throws Exception {
        int suspendSeconds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        System.exit(new Demo().run(suspendSeconds) ? 0 : 1);
    }

    private boolean run(int suspendSeconds) throws Exception {
        Path dir = Files.createTempDirectory("tcpferry-demo");
        say("building the rig: peer, a switch, host A with the guest, host B (network namespaces)");
        try (StandardTopology net = StandardTopology.create("demo");
                HostPair hosts = HostPair.start(net, dir, DOMAIN, "6f1e1f1a-0000-4000-8000-0000000de300",
                        dir.resolve("agent.sock"))) {
            HostManager hostA = hosts.hostA();
            Agent agent = Agent.start(new AgentConfig("unix:" + dir.resolve("agent.sock"), dir.resolve("journal"),
                    "guest", "", net.guest().file(), true));
            List<Process> apps = new ArrayList<>();
            try {
                awaitTrue(() -> agent.session() != null && hostA.endpoints().guestChannel(DOMAIN) != null, 10_000);
                EchoPeer carried = connect(net, CARRIED_PORT, apps);
                EchoPeer control = connect(net, CONTROL_PORT, apps);
                long appPid = apps.get(0).pid();
                String fdBefore = fd3(appPid);
                say("guest app pid " + appPid + " fd 3 = " + fdBefore + "; peers: TCP_USER_TIMEOUT 3 s, keepalive 1/1/2");

                live("streaming", net, agent, carried, control, 3, "on host A");
                say("host A orders a handoff of the connections to port " + CARRIED_PORT + " (the other is the control)");
                order(hostA, new HandoffOrder(new Selection(List.of(), List.of(PortRange.of(CARRIED_PORT)), List.of(),
                        List.of(), List.of())));
                awaitTrue(() -> agent.connections().size() == 1 && agent.connections().get(0).phase() == Phase.HANDED_OFF, 20_000);

                say("the guest is suspended (link down) for " + suspendSeconds + " s");
                net.guestLink().down();
                live("suspended", net, agent, carried, control, suspendSeconds, "suspended on host A");
                say("the guest resumes on host B and announces itself; its channel now reaches host B's manager,");
                say("so the agent reclaims through host B, which relays to host A, where the copy is");
                net.guestLink().up();
                hosts.moveGuestToHostB();
                awaitTrue(() -> agent.connections().isEmpty() && !agent.reports().isEmpty(), 20_000);
                CarriedReport report = agent.reports().get(0);
                say("back in place: " + report);
                live("back", net, agent, carried, control, 3, "on host B");

                String fdAfter = fd3(appPid); // before the end of the stream, after which the application exits
                carried.finish(20_000);
                check("carried connection: no error at the peer (no reset, no timeout)", carried.failure() == null,
                        carried.failure() == null ? "none" : carried.failure());
                check("carried connection: every byte echoed back", carried.sent() == carried.echoed() && carried.eof(),
                        "peer->guest " + carried.sent() + " bytes, guest->peer " + carried.echoed() + " bytes, guest FIN "
                                + (carried.eof() ? "received" : "missing"));
                check("carried connection: SHA-256 equal both ways", carried.sentSha256().equals(carried.echoSha256()),
                        "peer->guest " + carried.sentSha256() + ", guest->peer " + carried.echoSha256());
                check("application's fd 3 names the same socket", fdBefore.equals(fdAfter), fdBefore + " -> " + fdAfter);
                check("agent reports the connection conformed", report.phase() == Phase.CONFORMED,
                        report.phase() + ", " + report.bytesFromPeer() + " bytes received by host A during "
                                + report.heldMillis() + " ms");
                check("host A released its copy through host B's relay; nothing held anywhere",
                        held(hostA) == 0 && held(hosts.hostB()) == 0,
                        "host A holds " + held(hostA) + ", host B holds " + held(hosts.hostB()));
                check("control connection without tcpferry died", control.failure() != null,
                        control.failure() == null ? "still alive?" : "peer: " + control.failure());
            } finally {
                for (Process p : apps) {
                    p.destroyForcibly();
                }
                agent.close();
            }
        } finally {
            deleteTree(dir);
        }
        System.out.println();
        System.out.println("VERDICT");
        verdict.forEach(System.out::println);
        System.out.println(allPassed ? "ALL CHECKS PASSED" : "SOME CHECKS FAILED");
        return allPassed;
    }

    private static int held(HostManager host) {
        return host.status().path("domains").get(0).path("connections").size();
    }

    /** The application: bash opens the connection on fd 3 and cat echoes everything it reads back on it. */
    private static EchoPeer connect(StandardTopology net, int port, List<Process> apps) throws Exception {
        InetAddress peerIp = InetAddress.getByName(StandardTopology.PEER_V4);
        NativeSocket listener = net.peer().netns().call(() -> {
            NativeSocket s = NativeSocket.tcp(LibC.AF_INET);
            s.setInt(SockOpt.SO_REUSEADDR, 1);
            s.bind(new InetSocketAddress(peerIp, port));
            s.listen(4);
            return s;
        });
        apps.add(net.guest().spawn("bash", "-c", "exec 3<>/dev/tcp/" + StandardTopology.PEER_V4 + "/" + port
                + " || exit 9; cat <&3 >&3"));
        NativeSocket peer = listener.accept();
        listener.close();
        peer.describe("peer:" + port);
        peer.setInt(SockOpt.TCP_USER_TIMEOUT, 3000);
        peer.setInt(SockOpt.SO_KEEPALIVE, 1);
        peer.setInt(SockOpt.TCP_KEEPIDLE, 1);
        peer.setInt(SockOpt.TCP_KEEPINTVL, 1);
        peer.setInt(SockOpt.TCP_KEEPCNT, 2);
        return new EchoPeer(peer, Integer.toString(port));
    }

    private static void order(HostManager host, Message order) throws InterruptedException {
        host.endpoints().guestChannel(DOMAIN).writeAndFlush(new Envelope(0x40000001, order)).sync();
    }

    /** One line a second: what each connection carried so far, its state, and the countdown. */
    private static void live(String stage, StandardTopology net, Agent agent, EchoPeer carried, EchoPeer control,
            int seconds, String where) throws InterruptedException {
        for (int left = seconds; left > 0; left--) {
            String phase = agent.connections().stream().map(Carried::phase).map(Enum::name).findFirst().orElse("in place");
            System.out.printf("  %-9s %3ds left | guest %-19s | carried %-10s peer->guest %9d B, echoed %9d B, %s"
                    + " | control %s%n", stage, left, where, phase, carried.sent(), carried.echoed(),
                    carried.failure() == null ? "OPEN" : "DEAD " + carried.failure(),
                    control.failure() == null ? "OPEN" : "DEAD " + control.failure());
            Thread.sleep(1000);
        }
    }

    private void check(String what, boolean ok, String detail) {
        allPassed &= ok;
        verdict.add(String.format("  [%s] %s: %s", ok ? "PASS" : "FAIL", what, detail));
    }

    private static String fd3(long pid) throws IOException {
        return Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "fd", "3")).toString();
    }

    private static void say(String text) {
        System.out.println("==> " + text);
    }

    private interface Condition {
        boolean holds();
    }

    private static void awaitTrue(Condition condition, long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (!condition.holds()) {
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("timed out after " + timeoutMillis + " ms");
            }
            Thread.sleep(20);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
