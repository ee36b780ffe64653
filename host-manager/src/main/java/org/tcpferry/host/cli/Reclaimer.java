package org.tcpferry.host.cli;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Reclaim after the guest runs again: its agent needs a moment to reconnect to the host manager,
 * so an order refused because the agent "is not connected" is retried until the timeout.
 */
final class Reclaimer {
    private static final long RETRY_MILLIS = 500;

    private Reclaimer() {
    }

    static int reclaim(Workflow command, Path control, String domain, int timeoutSeconds, String done) throws IOException {
        long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
        while (true) {
            DaemonOrder.Result reclaim = command.order(control, "reclaim", domain);
            if (reclaim.exitCode() == 0) {
                return command.succeed(done + "; the guest took back its connections (" + reclaim.held()
                        + " still held here)");
            }
            if (reclaim.json().path("lost").asInt() > 0) {
                return command.fail(reclaim.exitCode(), "reclaim: " + reclaim.error(),
                        "nothing is held for the lost connections any more; the others are back in the guest");
            }
            boolean agentAbsent = reclaim.error().contains("not connected");
            if (!agentAbsent || System.nanoTime() > deadline) {
                return command.fail(reclaim.exitCode(), "reclaim: " + reclaim.error(),
                        "the host manager at " + control + " still holds them; run `tcpferry reclaim " + domain
                                + "` once the guest's agent is connected");
            }
            try {
                Thread.sleep(RETRY_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the agent of " + domain, e);
            }
        }
    }
}
