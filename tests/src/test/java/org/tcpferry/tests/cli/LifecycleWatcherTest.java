package org.tcpferry.tests.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.tcpferry.host.libvirt.LibvirtSession;
import org.tcpferry.host.libvirt.LifecycleWatcher;

/**
 * libvirt lifecycle events through libvirt-java's event loop, on the test driver: suspend gives
 * nothing, resume reports "runs again". (Restore and incoming migration are proven on QEMU.)
 */
class LifecycleWatcherTest {
    @Test
    void resumeIsReportedAsRunningAgain() throws Exception {
        BlockingQueue<String> runsAgain = new LinkedBlockingQueue<>();
        try (LifecycleWatcher watcher = LifecycleWatcher.start("test:///default",
                (name, event, again) -> {
                    if (again) {
                        runsAgain.add(name + " " + event);
                    }
                });
                LibvirtSession session = LibvirtSession.open("test:///default")) {
            session.domain("test").suspend();
            assertThat(runsAgain.poll(1, TimeUnit.SECONDS)).isNull();
            session.domain("test").resume();
            assertThat(runsAgain.poll(5, TimeUnit.SECONDS)).startsWith("test ").contains("RESUMED");
        }
    }

    @Test
    void aNewlyDefinedDomainIsReportedSoThatTheHostManagerCanLookItUp() throws Exception {
        BlockingQueue<String> heard = new LinkedBlockingQueue<>();
        String name = "tf-lw-" + ProcessHandle.current().pid();
        try (LifecycleWatcher watcher = LifecycleWatcher.start("test:///default",
                (domain, event, again) -> heard.add(domain + " " + event + " runsAgain=" + again));
                LibvirtSession session = LibvirtSession.open("test:///default")) {
            String xml = session.inactiveXml("test").replaceFirst("<name>test</name>", "<name>" + name + "</name>")
                    .replaceFirst("<uuid>[^<]*</uuid>", "");
            session.define(xml);
            try {
                assertThat(heard.poll(5, TimeUnit.SECONDS)).startsWith(name + " ").contains("DEFINED")
                        .endsWith("runsAgain=false");
            } finally {
                session.domain(name).undefine();
            }
        }
    }
}
