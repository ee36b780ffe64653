package org.tcpferry.bench;

import java.util.Arrays;
import org.tcpferry.sys.LibC;

/**
 * What one system call costs on this machine right now: the unit every repair step is made of.
 * On a virtual machine or a busy host it varies several-fold, so benchmark tables print it beside
 * their results.
 */
final class SyscallCost {
    private SyscallCost() {}

    /** Median wall time of one getsockopt(TCP_NODELAY) through the bare binding, in microseconds. */
    static double getsockoptMicros() {
        int fd = LibC.socket(LibC.AF_INET, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new IllegalStateException("socket() failed: errno " + com.sun.jna.Native.getLastError());
        }
        try {
            byte[] value = new byte[4];
            int[] len = new int[1];
            double[] samples = new double[2000];
            for (int round = 0; round < samples.length; round++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < 50; i++) {
                    len[0] = 4;
                    LibC.getsockopt(fd, LibC.SOL_TCP, LibC.TCP_NODELAY, value, len);
                }
                samples[round] = (System.nanoTime() - t0) / 50_000.0;
            }
            Arrays.sort(samples);
            return samples[samples.length / 2];
        } finally {
            LibC.close(fd);
        }
    }
}
