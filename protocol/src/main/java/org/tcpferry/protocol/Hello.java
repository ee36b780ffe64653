package org.tcpferry.protocol;

import java.util.Objects;
import java.util.Set;

/**
 * The first message on every connection, from the side that connected.
 *
 * @param role {@link #AGENT}, {@link #HOST} or {@link #CONTROL}
 * @param nodeName the sender's name for logs (a guest's hostname, a host's name, "cli")
 * @param domain the libvirt domain the agent runs in; empty when the role has none
 */
public record Hello(String role, String nodeName, String domain) implements Message {
    public static final String AGENT = "agent";
    public static final String HOST = "host";
    public static final String CONTROL = "control";
    private static final Set<String> ROLES = Set.of(AGENT, HOST, CONTROL);

    public Hello {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(nodeName, "nodeName");
        Objects.requireNonNull(domain, "domain");
        if (!ROLES.contains(role)) {
            throw new IllegalArgumentException("unknown role '" + role + "', expected one of " + ROLES);
        }
    }

    @Override
    public MessageType type() {
        return MessageType.HELLO;
    }
}
