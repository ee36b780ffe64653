package org.tcpferry.host.hold;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import org.tcpferry.host.config.SteeringConfig;
import org.tcpferry.host.steer.FlowSteering;
import org.tcpferry.host.steer.NamespaceShell;
import org.tcpferry.host.steer.SteeringBatcher;
import org.tcpferry.netns.NetNamespace;

/**
 * What the host runs inside one network namespace where guest bridges live: the flow steering
 * (tables, rules, routes), its batcher, and the loop thread that owns the copies.
 */
public final class NamespaceRuntime implements Closeable {
    private final Path netns;
    private final FlowSteering steering;
    private final SteeringBatcher batcher;
    private final CopyLoop loop;

    private NamespaceRuntime(Path netns, FlowSteering steering, SteeringBatcher batcher, CopyLoop loop) {
        this.netns = netns;
        this.steering = steering;
        this.batcher = batcher;
        this.loop = loop;
    }

    /** @param netns the namespace file, or null for the daemon's own */
    public static NamespaceRuntime start(Path netns, SteeringConfig config) throws IOException {
        return start(netns, config, java.util.Map.of());
    }

    /** @param stillHeld bridge to flows whose copies a keeper kept: they stay steered ({@link FlowSteering#start}) */
    public static NamespaceRuntime start(Path netns, SteeringConfig config,
            java.util.Map<String, ? extends java.util.Collection<org.tcpferry.protocol.FlowKey>> stillHeld)
            throws IOException {
        String name = netns == null ? "self" : netns.getFileName().toString();
        FlowSteering steering = FlowSteering.start(new NamespaceShell(netns), config, stillHeld);
        try {
            CopyLoop loop = new CopyLoop(name, netns == null ? null : NetNamespace.at(netns));
            return new NamespaceRuntime(netns, steering, new SteeringBatcher(steering, name), loop);
        } catch (IOException | RuntimeException e) {
            try {
                steering.close();
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    public Path netns() {
        return netns;
    }

    public SteeringBatcher batcher() {
        return batcher;
    }

    public FlowSteering steering() {
        return steering;
    }

    public CopyLoop loop() {
        return loop;
    }

    /**
     * Stops the batcher and the loop and leaves the steering in place: for a stop that leaves the
     * copies, still watched by nobody, with an fd keeper. Their descriptors here close with the process.
     */
    public void detach() throws IOException {
        batcher.close();
        try {
            loop.close();
        } finally {
            steering.detach();
        }
    }

    /** Stops the batcher and the loop, then removes the steering. Copies must be gone already. */
    @Override
    public void close() throws IOException {
        batcher.close();
        try {
            loop.close();
        } finally {
            steering.close();
        }
    }
}
