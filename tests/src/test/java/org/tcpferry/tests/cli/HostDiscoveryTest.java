package org.tcpferry.tests.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tcpferry.host.HostManager;
import org.tcpferry.host.config.DomainConfig;
import org.tcpferry.host.config.HostConfig;
import org.tcpferry.host.config.LibvirtConfig;
import org.tcpferry.host.config.PeerConfig;
import org.tcpferry.host.config.QuotaConfig;
import org.tcpferry.host.libvirt.LibvirtSession;
import org.tcpferry.rig.KernelTest;
import org.tcpferry.rig.StandardTopology;

/**
 * The host manager with {@code libvirt.uri} set fills a configured domain's missing channel and
 * addresses from libvirt (test driver): the config names the domain, its bridge and namespace;
 * libvirt's definition carries the agent channel and {@code <tcpferry:addresses>}.
 */
@KernelTest
class HostDiscoveryTest {
    private static final String URI = "test:///default";

    @TempDir
    Path dir;

    @Test
    void libvirtFillsChannelAndAddresses() throws Exception {
        String name = "tcpferry-discovery-" + ProcessHandle.current().pid();
        String uuid = "6f1e1f1a-0000-4000-8000-00000000d15c";
        String socket = dir.resolve("agent.sock").toString();
        String xml = """
                <domain type='test'>
                  <name>%s</name>
                  <uuid>%s</uuid>
                  <metadata>
                    <tcpferry:addresses xmlns:tcpferry='https://tcpferry.org/xmlns/domain/1'>
                      <tcpferry:address>%s</tcpferry:address>
                    </tcpferry:addresses>
                  </metadata>
                  <memory>65536</memory>
                  <os><type>hvm</type></os>
                  <devices>
                    <interface type='bridge'><mac address='02:77:00:00:00:02'/><source bridge='%s'/></interface>
                    <channel type='unix'>
                      <source mode='bind' path='%s'/>
                      <target type='virtio' name='org.tcpferry.agent.0'/>
                    </channel>
                  </devices>
                </domain>
                """.formatted(name, uuid, StandardTopology.GUEST_V4, StandardTopology.HOST_BRIDGE, socket);
        try (StandardTopology net = StandardTopology.create("disc");
                LibvirtSession libvirt = LibvirtSession.open(URI)) {
            libvirt.define(xml);
            try {
                QuotaConfig q = QuotaConfig.defaults();
                HostConfig config = new HostConfig("discovery-test", dir.resolve("control.sock").toString(),
                        PeerConfig.disabled(), dir.resolve("host.secret").toString(), new QuotaConfig(q.connectionSpoolBytes(),
                        q.domainSpoolBytes(), q.memoryPerConnectionBytes(), dir.resolve("spool").toString()), null, "",
                        List.of(new DomainConfig(name, uuid, List.of(), net.hostA().file().toString(),
                                StandardTopology.HOST_BRIDGE, "", null)),
                        new LibvirtConfig(URI, 5, false));
                // The host manager's log tells what it did with a lifecycle event.
                ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory
                        .getLogger(HostManager.class);
                ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> events =
                        new ch.qos.logback.core.read.ListAppender<>();
                events.start();
                log.addAppender(events);
                try (HostManager manager = HostManager.start(config)) {
                    DomainConfig merged = manager.config().domain(name);
                    assertThat(merged.addresses()).containsExactly(StandardTopology.GUEST_V4);
                    assertThat(merged.channel()).isEqualTo(socket);
                    assertThat(merged.netns()).isEqualTo(net.hostA().file().toString());
                    assertThat(manager.domain(name)).isNotNull();
                    // The domain starts (STARTED BOOTED: runs again); it holds nothing, so no reclaim is ordered.
                    libvirt.domain(name).create();
                    long deadline = System.nanoTime() + 5_000_000_000L;
                    while (messages(events).stream().noneMatch(m -> m.contains("auto_reclaim_skipped domain=" + name))
                            && System.nanoTime() < deadline) {
                        Thread.sleep(50);
                    }
                    assertThat(messages(events))
                            .anyMatch(m -> m.contains("auto_reclaim_skipped domain=" + name) && m.contains("nothing held"));
                } finally {
                    log.detachAppender(events);
                }
            } finally {
                if (libvirt.isActive(name)) {
                    libvirt.domain(name).destroy();
                }
                libvirt.domain(name).undefine();
            }
        }
    }

    /**
     * The messages logged so far. The daemon's threads append while the test reads, and logback
     * appends under the appender's lock, so the list is copied under that lock.
     */
    private static java.util.List<String> messages(ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> events) {
        synchronized (events) {
            return events.list.stream().map(e -> e.getFormattedMessage()).toList();
        }
    }
}
