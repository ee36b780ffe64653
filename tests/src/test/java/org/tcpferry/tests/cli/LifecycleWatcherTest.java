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
        try (LifecycleWatcher watcher = LifecycleWatcher.start("test:///default", (name, event) -> runsAgain.add(name + " " + event));
                LibvirtSession session = LibvirtSession.open("test:///default")) {
            session.domain("test").suspend();
            assertThat(runsAgain.poll(1, TimeUnit.SECONDS)).isNull();
            session.domain("test").resume();
            assertThat(runsAgain.poll(5, TimeUnit.SECONDS)).startsWith("test ").contains("RESUMED");
        }
    }
}
