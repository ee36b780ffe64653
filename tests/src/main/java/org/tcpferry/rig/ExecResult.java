package org.tcpferry.rig;

/** What a finished command left: its exit code and everything it wrote. */
public record ExecResult(int exitCode, String stdout, String stderr) {

    /** True when the command exited with 0. */
    public boolean succeeded() {
        return exitCode == 0;
    }
}
