package org.tcpferry.agent.cli;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.tcpferry.agent.channel.ChannelEndpoint;
import org.tcpferry.agent.core.Agent;
import org.tcpferry.agent.core.CrashPoint;
import org.tcpferry.agent.core.AgentConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tcpferry-agent}: the guest agent's command line. */
@Command(name = "tcpferry-agent", mixinStandardHelpOptions = true, version = "tcpferry-agent 0.1.0",
        description = "The tcpferry guest agent: hands this guest's TCP connections to its host while the VM is "
                + "suspended or migrating, and takes them back in place (same descriptors) afterwards.",
        subcommands = {AgentMain.Run.class})
public final class AgentMain implements Runnable {

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new AgentMain()).execute(args));
    }

    /** {@code run}: serve the channel until stopped. */
    @Command(name = "run", mixinStandardHelpOptions = true,
            description = "Run the agent (as root, in the guest). It finishes or rolls back an interrupted "
                    + "operation from its journal first, then serves the host manager's channel, reconnecting "
                    + "whenever it goes away.",
            footer = {"", "Examples:",
                    "  tcpferry-agent run                                   # virtio-serial port, journal under /run",
                    "  tcpferry-agent run --channel unix:/run/tcpferry-agent/agent.sock",
                    "  tcpferry-agent run --channel tcp:127.0.0.1:7470 --journal /tmp/tf-journal --domain vm1",
                    "  TCPFERRY_LOG_LEVEL=DEBUG tcpferry-agent run --reclaim-on-reconnect=false"})
    static final class Run implements Callable<Integer> {
        @Option(names = "--channel", paramLabel = "CHANNEL", defaultValue = ChannelEndpoint.DEFAULT,
                description = "virtio-serial device path, unix:/path (listen) or tcp:host:port (listen). Default: ${DEFAULT-VALUE}")
        String channel;

        @Option(names = "--journal", paramLabel = "DIR", defaultValue = "/run/tcpferry-agent/journal",
                description = "Journal directory (dumps, tokens, phases, frozen owners). Default: ${DEFAULT-VALUE}")
        Path journal;

        @Option(names = "--domain", paramLabel = "NAME", defaultValue = "",
                description = "libvirt domain name of this guest, sent with each handoff. Default: the domain the host names in its Hello")
        String domain;

        @Option(names = "--node", paramLabel = "NAME", description = "Name in logs and Hello replies. Default: the hostname")
        String node;

        @Option(names = "--netns", paramLabel = "FILE",
                description = "Carry the connections of this network namespace (/run/netns/NAME) instead of the agent's own")
        Path netns;

        @Option(names = "--reclaim-on-reconnect", arity = "1", paramLabel = "true|false", defaultValue = "true",
                description = "Take handed-off connections back as soon as a host connects. Default: ${DEFAULT-VALUE}")
        boolean reclaimOnReconnect;

        @Override
        public Integer call() throws Exception {
            String name = node != null ? node : InetAddress.getLocalHost().getHostName();
            Agent agent = Agent.start(new AgentConfig(channel, journal, name, domain, netns, reclaimOnReconnect));
            String crashAt = System.getenv("TCPFERRY_AGENT_CRASH_AT"); // fault-matrix tests only
            if (crashAt != null && !crashAt.isEmpty()) {
                agent.killAt(CrashPoint.valueOf(crashAt));
            }
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    agent.close();
                } catch (Exception e) {
                    System.err.println("tcpferry-agent: stop failed: " + e);
                }
                stopped.countDown();
            }, "agent-stop"));
            stopped.await();
            return 0;
        }
    }
}
