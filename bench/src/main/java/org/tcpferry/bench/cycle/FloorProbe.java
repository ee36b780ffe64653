package org.tcpferry.bench.cycle;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tcpferry.bench.BareRepair;
import org.tcpferry.bench.PeerHolder;
import org.tcpferry.sys.LibC;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.SockOpt;

/**
 * The floor: the cycle's repair steps for N loopback connections through the bare binding
 * ({@link BareRepair}), each step timed over all N connections as the cycle's phases are: dump
 * and detach every original, restore a copy of each (copy live), dump and silently close each
 * copy (final dump), conform every original in place. Each connection has {@link Streamer#CHUNK}
 * unread bytes that travel through the copy and back, and is checked afterwards (those bytes
 * readable, state ESTABLISHED). Freeze, flow blocking, steering and the channel have no floor here.
 */
final class FloorProbe {
    static final List<String> STEPS = List.of("dump", "copy live", "dump+copy live", "final dump", "conform",
            "final dump+conform");

    /** Per step: samples of the time for all N connections, ms. */
    record Result(Samples samples) {
    }

    private FloorProbe() {}

    static Result measure(int n, int passes) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process peer = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                "-Dlogback.statusListenerClass=ch.qos.logback.core.status.NopStatusListener", PeerHolder.class.getName(), Integer.toString(Streamer.CHUNK), PeerHolder.QUIET).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            String line = new BufferedReader(new InputStreamReader(peer.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            if (line == null) {
                throw new IOException("the floor's peer exited before it listened");
            }
            InetSocketAddress at = new InetSocketAddress(InetAddress.getLoopbackAddress(), Integer.parseInt(line.trim()));
            Samples samples = new Samples();
            pass(Math.min(n, 500), at); // JIT warm-up
            for (int p = 0; p < passes; p++) {
                pass(n, at).forEach(samples::add);
            }
            return new Result(samples);
        } finally {
            peer.getOutputStream().close();
            peer.destroy();
        }
    }

    private static Map<String, Double> pass(int n, InetSocketAddress at) throws IOException {
        NativeSocket[] originals = new NativeSocket[n];
        for (int i = 0; i < n; i++) {
            originals[i] = NativeSocket.tcp(LibC.AF_INET);
            originals[i].connect(at);
        }
        for (int i = 0; i < n; i++) {
            awaitUnread(originals[i], i);
        }
        BareRepair bare = new BareRepair();
        BareRepair.Batch dumped = new BareRepair.Batch(n);
        BareRepair.Batch final_ = new BareRepair.Batch(n);
        long dump = 0;
        long copyLive = 0;
        long finalDump = 0;
        long conform = 0;
        for (int i = 0; i < n; i++) {
            long t = System.nanoTime();
            bare.dump(originals[i].fd(), dumped, i);
            dump += System.nanoTime() - t;
        }
        // One copy at a time: 10,000 originals and 10,000 copies would exceed the descriptor limit.
        for (int i = 0; i < n; i++) {
            long t = System.nanoTime();
            int copy = bare.restore(dumped, i);
            long t1 = System.nanoTime();
            bare.dump(copy, final_, i);
            bare.closeSilently(copy);
            long t2 = System.nanoTime();
            copyLive += t1 - t;
            finalDump += t2 - t1;
        }
        for (int i = 0; i < n; i++) {
            long t = System.nanoTime();
            bare.conform(originals[i].fd(), final_, i);
            conform += System.nanoTime() - t;
        }
        Map<String, Double> ms = new LinkedHashMap<>();
        ms.put("dump", dump / 1e6);
        ms.put("copy live", copyLive / 1e6);
        ms.put("dump+copy live", (dump + copyLive) / 1e6);
        ms.put("final dump", finalDump / 1e6);
        ms.put("conform", conform / 1e6);
        ms.put("final dump+conform", (finalDump + conform) / 1e6);
        verifyAndClose(originals);
        return ms;
    }

    private static void awaitUnread(NativeSocket s, int i) throws IOException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (s.ioctlInt(LibC.SIOCINQ, "SIOCINQ") < Streamer.CHUNK) {
            if (System.nanoTime() > deadline) {
                throw new IOException("floor connection " + i + " never received its bytes");
            }
            s.poll(LibC.POLLIN, 100);
        }
    }

    private static void verifyAndClose(NativeSocket[] originals) throws IOException {
        byte[] buf = new byte[Streamer.CHUNK + 1];
        byte[] lingerZero = new byte[8];
        lingerZero[0] = 1; // l_onoff = 1, l_linger = 0: close with RST, no TIME_WAIT
        for (int i = 0; i < originals.length; i++) {
            if (originals[i].recv(buf, buf.length, LibC.MSG_DONTWAIT) != Streamer.CHUNK) {
                throw new IOException("floor connection " + i + " lost its unread bytes");
            }
            byte[] info = originals[i].getBytes(SockOpt.TCP_INFO, 8);
            if (info[0] != 1) {
                throw new IOException("floor connection " + i + " is in TCP state " + info[0] + " after conform");
            }
            originals[i].setBytes(SockOpt.SO_LINGER, lingerZero);
            originals[i].close();
        }
    }
}
