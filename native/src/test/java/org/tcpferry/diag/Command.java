package org.tcpferry.diag;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a short external command (ip, setpriv) for test setup and fails loudly if it fails. */
final class Command {
    private Command() {}

    /** Runs {@code command}, returns its standard output; throws with the output if it exits non-zero. */
    static String run(String... command) throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException(List.of(command) + " did not finish in 60 s");
            }
            if (process.exitValue() != 0) {
                throw new IOException(List.of(command) + " exited " + process.exitValue() + ": " + output);
            }
            return output;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new IOException("interrupted while running " + List.of(command), e);
        }
    }
}
