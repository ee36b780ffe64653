package org.tcpferry.host.hold;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tcpferry.protocol.FlowKey;
import org.tcpferry.repair.TcpRepair;
import org.tcpferry.sys.NativeSocket;

/**
 * A restarted host manager takes over the copies its keeper kept ({@link CopyKeeper}): each one
 * becomes a {@link HeldConnection} of its domain again, HOLDING, its spool cut to the truth, its
 * flow steered, its token still valid (the host secret is a file). Copies that never held a
 * connection the guest gave up (their handoff was not accepted) are closed silently.
 */
public final class Adoption {
    private static final Logger log = LoggerFactory.getLogger(Adoption.class);

    private Adoption() {
    }

    /**
     * Holds the copy on {@code fd} (this process's duplicate, now owned by the connection) again.
     * On failure the copy is closed silently, its flow unsteered, and the record forgotten.
     */
    public static CompletableFuture<HeldConnection> adopt(DomainHolds domain, KeptCopy record, int fd,
            int steeringMark, int copyMark) {
        CopyLoop loop = domain.runtime().loop();
        String bridge = domain.config().bridge();
        return loop.submit(() -> HeldConnection.adopt(record, NativeSocket.adopt(fd, null), domain.quota(),
                domain.keeper(), steeringMark, copyMark))
                .thenCompose(held -> {
                    domain.adopted(held);
                    CompletableFuture<Void> copyReady = held.needsRestore()
                            ? loop.submit(() -> {
                                held.restoreAfterAbort();
                                return null;
                            })
                            : CompletableFuture.completedFuture(null);
                    return copyReady
                            .thenCompose(v -> domain.runtime().batcher().steer(bridge, List.of(held.flow())))
                            .thenCompose(v -> loop.submit(() -> {
                                held.startHolding(loop);
                                return held;
                            }))
                            .whenComplete((v, error) -> {
                                if (error != null) {
                                    HoldLifecycle.giveUp(domain, held, "adoption failed: "
                                            + HoldLifecycle.cause(error).getMessage());
                                }
                            });
                });
    }

    /**
     * A copy whose handoff was never accepted: the agent rolled its socket back when the channel
     * broke, so the copy must vanish without a word to the peer.
     */
    public static CompletableFuture<Void> closeUnaccepted(DomainHolds domain, FlowKey flow, int fd) {
        CopyLoop loop = domain.runtime().loop();
        return domain.runtime().batcher().unsteer(domain.config().bridge(), List.of(flow))
                .thenCompose(v -> loop.submit(() -> {
                    domain.keeper().drop(flow);
                    TcpRepair.closeSilently(NativeSocket.adopt(fd, flow.toString()));
                    log.info("event=copy_unaccepted_closed domain={} flow={}", domain.name(), flow);
                    return null;
                }));
    }

    /** Whether the copy on {@code fd} was dumped for a release (repair mode): its flow is not steered. */
    public static boolean released(int fd) throws IOException {
        return NativeSocket.adopt(fd, null).getInt(org.tcpferry.sys.SockOpt.TCP_REPAIR) != 0;
    }

    /** The flow a kept descriptor carries, read from the socket itself. */
    public static FlowKey flowOf(int fd) throws IOException {
        NativeSocket socket = NativeSocket.adopt(fd, null);
        return new FlowKey(socket.localAddress(), socket.remoteAddress());
    }
}
