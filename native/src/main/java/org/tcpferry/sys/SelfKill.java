package org.tcpferry.sys;

import java.io.IOException;

/**
 * SIGKILL of this very process, for fault-injection points in tests: nothing runs after it (no
 * shutdown hook, no finally), as when an operator or the OOM killer does it.
 */
public final class SelfKill {
    private SelfKill() {
    }

    /** Sends SIGKILL to this process and waits for it to land; halts with 137 if it cannot be sent. */
    public static void now() {
        long pid = ProcessHandle.current().pid();
        try {
            new ProcessBuilder("kill", "-KILL", Long.toString(pid)).start().waitFor();
            Thread.sleep(60_000); // the signal is on its way
        } catch (IOException | InterruptedException e) {
            Runtime.getRuntime().halt(137);
        }
    }
}
