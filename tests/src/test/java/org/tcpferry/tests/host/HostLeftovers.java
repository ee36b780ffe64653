package org.tcpferry.tests.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.tcpferry.rig.Namespace;

/** What a host manager that stopped must not leave in its namespace and spool directory. */
public final class HostLeftovers {
    private HostLeftovers() {
    }

    /** No nft table, ip rule, route of table 7466, TCP socket or spool file of tcpferry's. */
    public static void assertNone(Namespace host, Path spoolDir) throws IOException {
        String tables = host.exec("nft", "list", "tables").stdout();
        assertThat(tables).as("nft tables left in host A").doesNotContain("tcpferry");
        String rules = host.exec("ip", "rule", "show").stdout() + host.exec("ip", "-6", "rule", "show").stdout();
        assertThat(rules).as("ip rules left in host A").doesNotContain("fwmark");
        String routes = host.exec("ip", "route", "show", "table", "all").stdout()
                + host.exec("ip", "-6", "route", "show", "table", "all").stdout();
        assertThat(routes).as("routes left in host A's table 7466").doesNotContain("table 7466");
        String sockets = host.exec("ss", "-tanH").stdout();
        assertThat(sockets.strip()).as("copy sockets left in host A").isEmpty();
        try (Stream<Path> spool = Files.exists(spoolDir) ? Files.list(spoolDir) : Stream.empty()) {
            assertThat(spool.toList()).as("spool files left").isEmpty();
        }
    }
}
