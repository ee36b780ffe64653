package org.tcpferry.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Certificate authorities and leaf certificates for mutual-TLS tests, made with openssl (EC P-256,
 * valid two days). Every leaf names {@code IP:127.0.0.1}, the address the tests' peer endpoints
 * listen on, so a client that verifies the server's name accepts it.
 */
public final class TestCertificates {
    private final Path dir;

    public TestCertificates(Path dir) {
        this.dir = dir;
    }

    /** A self-signed CA {@code name}: {@code name.pem}, {@code name.key}. */
    public TestCertificates ca(String name) throws IOException, InterruptedException {
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                "-subj", "/CN=" + name, "-keyout", file(name + ".key"), "-out", file(name + ".pem"));
        return this;
    }

    /** A certificate {@code name} signed by CA {@code ca}, for 127.0.0.1. */
    public TestCertificates leaf(String name, String ca) throws IOException, InterruptedException {
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=" + name,
                "-keyout", file(name + ".key"), "-out", file(name + ".csr"));
        Files.writeString(dir.resolve(name + ".ext"), "subjectAltName=IP:127.0.0.1\n");
        openssl("x509", "-req", "-in", file(name + ".csr"), "-CA", file(ca + ".pem"), "-CAkey", file(ca + ".key"),
                "-CAcreateserial", "-days", "2", "-extfile", file(name + ".ext"), "-out", file(name + ".pem"));
        return this;
    }

    /** The path of {@code name} in this directory, e.g. {@code file("ca.pem")}. */
    public String file(String name) {
        return dir.resolve(name).toString();
    }

    private void openssl(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add("openssl");
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("openssl " + String.join(" ", args) + " failed: " + output);
        }
    }
}
