package org.tcpferry.agent.core;

import java.nio.file.Path;
import java.util.Objects;

/**
 * How an agent runs.
 *
 * @param channel where the host manager reaches it (see {@link org.tcpferry.agent.channel.ChannelEndpoint})
 * @param journal directory of the journal, normally {@code /run/tcpferry-agent/journal}
 * @param node this guest's name in Hello replies and logs
 * @param domain the libvirt domain this guest is, sent in every HandoffRequest
 * @param netns the network namespace whose connections it carries (tests run the agent in-process
 *     for a namespace); null for the agent's own
 * @param reclaimOnReconnect take handed-off connections back as soon as a host connects (the VM
 *     runs again, here or after moving)
 */
public record AgentConfig(String channel, Path journal, String node, String domain, Path netns,
        boolean reclaimOnReconnect) {
    public static final Path DEFAULT_JOURNAL = Path.of("/run/tcpferry-agent/journal");

    public AgentConfig {
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(journal, "journal");
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(domain, "domain");
    }
}
