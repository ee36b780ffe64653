package org.tcpferry.protocol;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import org.tcpferry.repair.ConnectionState;
import org.tcpferry.repair.RepairWindow;
import org.tcpferry.repair.SocketOptions;
import org.tcpferry.repair.TcpState;

/** Generators for every value that travels on the wire, including the awkward ones. */
final class WireArbitraries {
    private WireArbitraries() {}

    static Arbitrary<Integer> anyInt() {
        return Arbitraries.integers();
    }

    static Arbitrary<Integer> ports() {
        return Arbitraries.integers().between(0, 0xffff);
    }

    static Arbitrary<InetSocketAddress> ipv4() {
        return Combinators.combine(Arbitraries.bytes().array(byte[].class).ofSize(4), ports())
                .as((ip, port) -> new InetSocketAddress(v4(ip), port));
    }

    /** IPv6 with and without a scope id, including IPv4-mapped and link-local addresses. */
    static Arbitrary<InetSocketAddress> ipv6() {
        Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofSize(16);
        Arbitrary<byte[]> mapped = Arbitraries.bytes().array(byte[].class).ofSize(4).map(v4 -> {
            byte[] ip = new byte[16];
            ip[10] = (byte) 0xff;
            ip[11] = (byte) 0xff;
            System.arraycopy(v4, 0, ip, 12, 4);
            return ip;
        });
        Arbitrary<byte[]> linkLocal = Arbitraries.bytes().array(byte[].class).ofSize(16).map(ip -> {
            ip[0] = (byte) 0xfe;
            ip[1] = (byte) 0x80;
            return ip;
        });
        Arbitrary<Integer> scopes = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(2, Arbitraries.just(0)),
                net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(1, Integer.MAX_VALUE)));
        return Combinators.combine(Arbitraries.oneOf(random, mapped, linkLocal), scopes, ports())
                .as((ip, scope, port) -> new InetSocketAddress(v6(ip, scope), port));
    }

    static Arbitrary<FlowKey> flowKeys() {
        return Arbitraries.oneOf(
                Combinators.combine(ipv4(), ipv4()).as(FlowKey::new),
                Combinators.combine(ipv6(), ipv6()).as(FlowKey::new));
    }

    /** Empty, small, and now and then large queues (up to 1 MiB). */
    static Arbitrary<byte[]> queues() {
        Arbitrary<byte[]> small = Arbitraries.bytes().array(byte[].class).ofMaxSize(300);
        Arbitrary<byte[]> large = Arbitraries.integers().between(64 * 1024, 1024 * 1024).map(n -> {
            byte[] b = new byte[n];
            for (int i = 0; i < n; i++) {
                b[i] = (byte) (i * 31 + n);
            }
            return b;
        });
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(2, Arbitraries.just(new byte[0])),
                net.jqwik.api.Tuple.of(8, small),
                net.jqwik.api.Tuple.of(1, large));
    }

    static Arbitrary<RepairWindow> windows() {
        return Combinators.combine(anyInt(), anyInt(), anyInt(), anyInt(), anyInt()).as(RepairWindow::new);
    }

    static Arbitrary<SocketOptions> socketOptions() {
        return Combinators.combine(Arbitraries.of(true, false), Arbitraries.of(true, false), anyInt(), anyInt(),
                anyInt(), anyInt(), anyInt(), anyInt()).as(SocketOptions::new);
    }

    private record Ends(InetSocketAddress local, InetSocketAddress remote) {}

    private record Queues(int writeSeq, byte[] unacked, byte[] unsent, int rcvNxt, byte[] received) {}

    private record TcpOptions(int mssClamp, boolean windowScaling, int sndWscale, int rcvWscale,
            boolean sackPermitted, boolean timestamps, int tsVal) {}

    static Arbitrary<ConnectionState> connectionStates() {
        Arbitrary<Ends> ends = Arbitraries.oneOf(
                Combinators.combine(ipv4(), ipv4()).as(Ends::new),
                Combinators.combine(ipv6(), ipv6()).as(Ends::new));
        Arbitrary<Queues> queues = Combinators.combine(anyInt(), queues(), queues(), anyInt(), queues()).as(Queues::new);
        Arbitrary<Integer> wscale = Arbitraries.integers().between(0, 255);
        Arbitrary<TcpOptions> tcpOptions = Combinators.combine(anyInt(), Arbitraries.of(true, false), wscale, wscale,
                Arbitraries.of(true, false), Arbitraries.of(true, false), anyInt()).as(TcpOptions::new);
        return Combinators.combine(ends, Arbitraries.of(TcpState.class), queues, tcpOptions, windows(), socketOptions())
                .as((e, state, q, t, window, options) -> new ConnectionState(e.local(), e.remote(), state, q.writeSeq(),
                        q.unacked(), q.unsent(), q.rcvNxt(), q.received(), t.mssClamp(), t.windowScaling(), t.sndWscale(),
                        t.rcvWscale(), t.sackPermitted(), t.timestamps(), t.tsVal(), window, options));
    }

    /** Any text, including empty, multi-byte and supplementary characters. */
    static Arbitrary<String> texts() {
        return Arbitraries.oneOf(
                Arbitraries.strings().ofMaxLength(40),
                Arbitraries.strings().withCharRange('\u0000', '\u00ff').ofMaxLength(10),
                Arbitraries.of("", "agent-1", "grüße", "\uD83D\uDE80 rocket", "{\"flows\":[]}"));
    }

    static Arbitrary<Selection> selections() {
        Arbitrary<PortRange> range = Combinators.combine(ports(), ports())
                .as((a, b) -> new PortRange(Math.min(a, b), Math.max(a, b)));
        Arbitrary<List<PortRange>> ranges = range.list().ofMaxSize(5);
        Arbitrary<List<String>> names = texts().list().ofMaxSize(4);
        return Combinators.combine(ranges, ranges, names, names, anyInt().list().ofMaxSize(4)).as(Selection::new);
    }

    static Arbitrary<byte[]> tokens() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(64);
    }

    /** Every message type, with arbitrary contents. */
    static Arbitrary<Message> messages() {
        return Arbitraries.oneOf(List.of(
                Combinators.combine(Arbitraries.of(Hello.AGENT, Hello.HOST, Hello.CONTROL), texts(), texts()).as(Hello::new),
                Combinators.combine(texts(), anyInt()).as(HelloReply::new),
                Combinators.combine(Arbitraries.of(ErrorCode.class), texts()).as(ErrorReply::new),
                Arbitraries.just(new Ack()),
                selections().map(HandoffOrder::new),
                Combinators.combine(texts(), connectionStates()).as(HandoffRequest::new),
                Combinators.combine(flowKeys(), tokens()).as(HandoffAccepted::new),
                anyInt().map(HandoffComplete::new),
                flowKeys().map(HandoffQuery::new),
                Combinators.combine(flowKeys(), tokens()).as(ReleaseRequest::new),
                Combinators.combine(connectionStates(), Arbitraries.of(true, false)).as(ReleaseGranted::new),
                Arbitraries.just(new ReleaseGranted(null, true)),
                Combinators.combine(flowKeys(), tokens()).as(ReleaseConfirm::new),
                Combinators.combine(flowKeys(), tokens()).as(ReleaseAbort::new),
                Arbitraries.just(new ReclaimOrder()),
                Arbitraries.just(new StatusRequest()),
                texts().map(StatusReply::new),
                Combinators.combine(texts(), Arbitraries.maps(texts(), texts()).ofMaxSize(5)).as(ControlCommand::new),
                Combinators.combine(anyInt(), texts()).as(ControlReply::new),
                Combinators.combine(texts(), anyInt(), anyInt(), Arbitraries.longs()).as(Progress::new)));
    }

    static Inet4Address v4(byte[] ip) {
        try {
            return (Inet4Address) Inet4Address.getByAddress(ip);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    static Inet6Address v6(byte[] ip, int scope) {
        try {
            return Inet6Address.getByAddress(null, ip, scope);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
