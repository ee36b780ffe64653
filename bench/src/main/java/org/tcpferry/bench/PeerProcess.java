package org.tcpferry.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/** A {@link PeerHolder} child JVM on this classpath; it exits when this process does. */
final class PeerProcess {
    final int port;

    private PeerProcess(int port) {
        this.port = port;
    }

    static PeerProcess start(int unread) throws IOException {
        String java = System.getProperty("java.home") + "/bin/java";
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                PeerHolder.class.getName(), Integer.toString(unread), PeerHolder.ECHO)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        // Keep p's stdin open (it exits when it closes) and read the port it listens on.
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII));
        String line = out.readLine();
        if (line == null) {
            throw new IOException("peer holder exited before it listened");
        }
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroy));
        return new PeerProcess(Integer.parseInt(line.trim()));
    }
}
