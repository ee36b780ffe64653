package org.tcpferry.vmrig;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What every "carried" VM scenario shares: a streaming peer accepted from the guest, named phase
 * times, and the end check that the connection lived and both directions are byte-exact (the peer
 * sends FIN, the guest's echo client answers with the rest of the echo and its own FIN).
 */
public final class CarriedScenario implements AutoCloseable {
    private static final Pattern PROGRESS_LINE = Pattern.compile("^tcpferry \\S+: \\[(\\S+)\\] .* \\(([0-9.]+) s\\)$");
    private static final Pattern ELAPSED = Pattern.compile("\"elapsedMs\":(\\d+)");

    private final VmRig vm;
    private final String name;
    private final EchoPeer peer;
    private final Map<String, Long> phases = new LinkedHashMap<>();

    private CarriedScenario(VmRig vm, String name, EchoPeer peer) {
        this.vm = vm;
        this.name = name;
        this.peer = peer;
    }

    /** Accepts the guest's echo connection and waits until the echo flows. */
    public static CarriedScenario begin(VmRig vm, String name) throws Exception {
        EchoPeer peer = vm.acceptConnection(180);
        CarriedScenario scenario = new CarriedScenario(vm, name, peer);
        try {
            vm.awaitEchoBeyond(peer, 0, 60);
        } catch (Exception | Error e) {
            scenario.close();
            throw e;
        }
        return scenario;
    }

    public EchoPeer peer() {
        return peer;
    }

    /** Records a phase's duration in ms. */
    public void phase(String phase, long millis) {
        phases.put(phase, millis);
    }

    /**
     * Records a CLI call: its wall time as {@code label}, and each of its progress phases as
     * {@code label/phase} (from its stderr lines {@code tcpferry CMD: [PHASE] ... (T s)}, T being the
     * time since the command started; a phase lasts until the next different one, the last until
     * the command's {@code elapsedMs}), so a user sees how long the handoff, the libvirt step and the
     * reclaim each took.
     */
    public void phase(String label, Shell.Result cli) {
        phase(label, cli.millis());
        Matcher end = ELAPSED.matcher(cli.stdout());
        long endMillis = end.find() ? Long.parseLong(end.group(1)) : -1;
        String current = null;
        long currentStart = 0;
        for (String text : cli.stderr().split("\n")) {
            Matcher m = PROGRESS_LINE.matcher(text.strip());
            if (!m.matches() || m.group(1).equals(current)) {
                continue;
            }
            long at = Math.round(Double.parseDouble(m.group(2)) * 1000);
            if (current != null) {
                phase(label + "/" + current, at - currentStart);
            }
            current = m.group(1);
            currentStart = at;
        }
        if (current != null && endMillis >= currentStart) {
            phase(label + "/" + current, endMillis - currentStart);
        }
    }

    /** Records the time since {@code startNanos} as a phase. */
    public void phaseSince(String phase, long startNanos) {
        phase(phase, (System.nanoTime() - startNanos) / 1_000_000);
    }

    /** Throws (with diagnostics) if the peer's connection failed. */
    public void assertAlive(String when) {
        if (peer.failure() != null) {
            throw new AssertionError(name + ": the peer's connection failed " + when + ": " + peer.failure() + "\n"
                    + vm.diagnostics());
        }
    }

    /**
     * Runs {@code command} (a CLI call that may find the agent not yet connected, which changes
     * nothing) until it succeeds or {@code timeoutSeconds} pass; returns the successful result.
     */
    public static Shell.Result untilAgentConnected(long timeoutSeconds, Supplier<Shell.Result> command)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
        while (true) {
            Shell.Result result = command.get();
            if (result.succeeded()) {
                return result;
            }
            if (System.nanoTime() > deadline || !(result.stderr() + result.stdout()).contains("not connected")) {
                throw new AssertionError("failed: " + result.describe());
            }
            Thread.sleep(500);
        }
    }

    /**
     * After the guest took its connection back: waits for new echo, ends the stream and checks that
     * the connection lived and that both directions are byte-exact; reports the phases and the peer's
     * view (longest send stall and echo gap: the stall the peer could see).
     */
    public void finishByteExact() throws Exception {
        vm.awaitEchoBeyond(peer, peer.echoed(), 60);
        Thread.sleep(3000);
        peer.finish(120_000);
        assertAlive("after the reclaim");
        if (!peer.eof()) {
            throw new AssertionError(name + ": the guest did not close after the peer's FIN (echoed " + peer.echoed()
                    + " of " + peer.sent() + ")\n" + vm.diagnostics());
        }
        if (peer.echoed() != peer.sent() || !peer.echoSha256().equals(peer.sentSha256())) {
            throw new AssertionError(name + ": echo differs: sent " + peer.sent() + " (" + peer.sentSha256() + "), echoed "
                    + peer.echoed() + " (" + peer.echoSha256() + ")\n" + vm.diagnostics());
        }
        StringBuilder line = new StringBuilder(name).append(':');
        phases.forEach((phase, ms) -> line.append(' ').append(phase).append(' ').append(ms).append(" ms;"));
        line.append(" peer sent ").append(peer.sent()).append(" bytes, all echoed, SHA-256 ").append(peer.sentSha256())
                .append(" both ways; peer-visible stall: longest send stall ").append(peer.longestSendStallMillis())
                .append(" ms, longest echo gap ").append(peer.longestEchoGapMillis()).append(" ms");
        VmRig.report(line.toString());
    }

    @Override
    public void close() throws Exception {
        peer.close();
    }
}
