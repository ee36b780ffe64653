package org.tcpferry.tests.hooks;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * What one run of the hook script did.
 *
 * @param exitCode the script's exit status (libvirt aborts the operation on anything but 0)
 * @param stdout the bytes libvirt would read as the replacement domain XML
 * @param stderr what the script wrote to stderr
 * @param log what the run appended to the hook's log file
 * @param elapsed wall time from start to exit
 */
record HookRun(int exitCode, byte[] stdout, String stderr, String log, Duration elapsed) {
    String stdoutText() {
        return new String(stdout, StandardCharsets.UTF_8);
    }
}
