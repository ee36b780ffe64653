package org.tcpferry.host.hold;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tcpferry.repair.ConnectionState;

/**
 * The steps of a held connection's life, in the order that keeps the peer from ever seeing a
 * reset (kernel-notes item 13): the copy exists before its flow is steered to it, and the flow is
 * unsteered before the copy is dumped and closed. Socket work runs on the namespace's
 * {@link CopyLoop}; steering goes through its {@link org.tcpferry.host.steer.SteeringBatcher}.
 * Every method is asynchronous and leaves the connection in a named {@link HoldState}.
 */
public final class HoldLifecycle {
    private static final Logger log = LoggerFactory.getLogger(HoldLifecycle.class);

    private HoldLifecycle() {
    }

    /** RESTORING -> (copy restored, flow steered) -> HOLDING. On failure: FAILED, copy closed, record removed. */
    public static CompletableFuture<Void> hold(DomainHolds domain, HeldConnection held) {
        CopyLoop loop = domain.runtime().loop();
        String bridge = domain.config().bridge();
        return loop.submit(() -> {
            held.restore();
            return null;
        }).thenCompose(v -> domain.runtime().batcher().steer(bridge, List.of(held.flow())))
                .thenCompose(v -> loop.submit(() -> {
                    held.startHolding(loop);
                    return (Void) null;
                }))
                .whenComplete((v, error) -> {
                    if (error != null) {
                        giveUp(domain, held, "hold failed: " + cause(error).getMessage());
                    }
                });
    }

    /**
     * HOLDING -> RELEASING: unsteer, stop reading, dump, close the copy silently.
     * @return the final state with the spool in front of the received queue; null if the peer reset
     */
    public static CompletableFuture<ConnectionState> release(DomainHolds domain, HeldConnection held, Object requester) {
        CopyLoop loop = domain.runtime().loop();
        if (!held.moveFrom(HoldState.HOLDING, HoldState.RELEASING, "release requested")) {
            return CompletableFuture.failedFuture(new IllegalStateException(held.flow() + " is " + held.state()
                    + ", not HOLDING"));
        }
        held.releaser(requester);
        CompletableFuture<ConnectionState> release = domain.runtime().batcher()
                .unsteer(domain.config().bridge(), List.of(held.flow()))
                .thenCompose(v -> loop.submit(() -> held.stopAndDump(loop)))
                .exceptionallyCompose(error -> resumeAfterFailedRelease(domain, held, error));
        held.pendingRelease(release);
        return release;
    }

    /**
     * A release asked for again while RELEASING, with the right token: the first requester went
     * silent (a virtio-serial channel shows no close) or lost the grant. The copy is already
     * dumped and closed, so the same final state is granted again and {@code requester} becomes
     * the one whose confirm or disappearance settles it. Safe because the guest keeps the flow
     * blocked until a confirm is acknowledged: a socket already conformed to this state is
     * conformed to it again, unchanged.
     */
    public static CompletableFuture<ConnectionState> regrant(HeldConnection held, Object requester) {
        if (held.state() != HoldState.RELEASING || held.releaseSettled()) {
            return CompletableFuture.failedFuture(new IllegalStateException(held.flow() + " is " + held.state()
                    + (held.releaseSettled() ? ", its release being settled; ask again" : ", not RELEASING")));
        }
        held.releaser(requester);
        return held.pendingRelease();
    }

    /**
     * RELEASING -> RELEASED: the guest has the connection; forget the record, then free the spool
     * on the loop. The confirm does not wait for the loop: in a large release the loop is busy
     * dumping the other copies, and the guest keeps each flow blocked until its confirm is
     * acknowledged. The copy is already closed (at the dump), so only the spool is left to free.
     */
    public static CompletableFuture<Void> confirm(DomainHolds domain, HeldConnection held) {
        if (!held.settleRelease()) {
            return CompletableFuture.failedFuture(new IllegalStateException(held.flow() + " is " + held.state()
                    + (held.state() == HoldState.RELEASING ? ", its release already aborted (the requester's link closed)"
                            : ", not RELEASING")));
        }
        // The keeper forgets the copy before the guest hears its confirm acknowledged: a host manager
        // that died after the acknowledgement and before this would, restarted, hold the connection
        // again from the kept copy while the guest's socket carries it too.
        CrashPoint.BEFORE_CONFIRM_DISCARD.reached();
        held.forgetKept();
        if (!held.moveFrom(HoldState.RELEASING, HoldState.RELEASED, "release confirmed")) {
            return CompletableFuture.failedFuture(new IllegalStateException(held.flow() + " is " + held.state()
                    + ", not RELEASING"));
        }
        domain.remove(held);
        if (domain.connections().isEmpty()) {
            log.info("event=released_all domain={}", domain.name()); // the per-connection steps are debug
        }
        CopyLoop loop = domain.runtime().loop();
        loop.submit(() -> {
            held.discard(loop);
            return null;
        }).whenComplete((v, error) -> {
            if (error != null) {
                log.error("event=spool_free_failed domain={} flow={} error=\"{}\"", domain.name(), held.flow(),
                        cause(error).getMessage());
            }
        });
        return CompletableFuture.completedFuture(null);
    }

    /**
     * RELEASING -> HOLDING: the guest could not take the connection back. A new copy is restored
     * from the final state and steered again; the spool is kept, so nothing is lost. A connection
     * the peer reset has nothing to hold: it is dropped.
     */
    public static CompletableFuture<Void> abort(DomainHolds domain, HeldConnection held, String why) {
        // A release still under way (unsteer, dump, close) must settle first: restoring from a
        // state that is not dumped yet would restore nothing, and the release would then close
        // the copy, losing the connection. Whatever the release did, act on the state it left.
        return held.pendingRelease().handle((finalState, error) -> null)
                .thenCompose(settled -> abortSettledRelease(domain, held, why));
    }

    private static CompletableFuture<Void> abortSettledRelease(DomainHolds domain, HeldConnection held, String why) {
        if (!held.settleRelease()) {
            // A failed release already resumed holding, the record is gone, or a confirm (or another
            // abort) settled this release first: nothing to undo.
            log.info("event=release_abort_noop domain={} flow={} state={} why=\"{}\"", domain.name(), held.flow(),
                    held.state(), why);
            return CompletableFuture.completedFuture(null);
        }
        CopyLoop loop = domain.runtime().loop();
        if (held.peer() == PeerState.RESET || held.peer() == PeerState.LOST) {
            return loop.submit(() -> {
                held.discard(loop);
                held.state(HoldState.RELEASED, why + "; peer had " + held.peer() + ", nothing to hold");
                domain.remove(held);
                return null;
            });
        }
        return loop.submit(() -> {
            held.restoreAfterAbort();
            return null;
        }).thenCompose(v -> domain.runtime().batcher().steer(domain.config().bridge(), List.of(held.flow())))
                .thenCompose(v -> loop.submit(() -> {
                    held.releaser(null);
                    held.startHolding(loop);
                    log.info("event=release_aborted domain={} flow={} state={} why=\"{}\"", domain.name(), held.flow(),
                            held.state(), why);
                    return (Void) null;
                }))
                .whenComplete((v, error) -> {
                    if (error != null) {
                        giveUp(domain, held, "re-hold after abort failed: " + cause(error).getMessage());
                    }
                });
    }

    /**
     * HOLDING -> EXPIRED: nobody reclaimed the connection in time. Unsteer first (the order of
     * kernel-notes 13), then the copy resets the peer; spool and record are freed.
     */
    public static CompletableFuture<Void> expire(DomainHolds domain, HeldConnection held) {
        CopyLoop loop = domain.runtime().loop();
        if (!held.moveFrom(HoldState.HOLDING, HoldState.EXPIRED,
                "held " + held.age().toSeconds() + " s, longer than quotas.holdSeconds")) {
            return CompletableFuture.completedFuture(null); // a release got there first
        }
        return domain.runtime().batcher().unsteer(domain.config().bridge(), List.of(held.flow()))
                .thenCompose(v -> loop.submit(() -> {
                    held.resetPeer(loop);
                    domain.remove(held);
                    log.info("event=hold_expired domain={} flow={} state={} spooled_dropped={}", domain.name(),
                            held.flow(), held.state(), held.bytesFromPeer());
                    return (Void) null;
                }));
    }

    /** Unsteers and silently closes a copy in any state (daemon shutdown). The peer will time out. */
    public static CompletableFuture<Void> drop(DomainHolds domain, HeldConnection held, String why) {
        CopyLoop loop = domain.runtime().loop();
        return domain.runtime().batcher().unsteer(domain.config().bridge(), List.of(held.flow()))
                .thenCompose(v -> loop.submit(() -> {
                    held.discard(loop);
                    held.fail(why);
                    domain.remove(held);
                    return (Void) null;
                }));
    }

    /**
     * Dumping failed after the unsteer: the copy is still there (dump changes nothing when it
     * fails), so leave repair mode, steer the flow back and keep holding; the requester sees the error.
     */
    private static CompletableFuture<ConnectionState> resumeAfterFailedRelease(DomainHolds domain, HeldConnection held,
            Throwable error) {
        CopyLoop loop = domain.runtime().loop();
        log.error("event=release_failed domain={} flow={} error=\"{}\"", domain.name(), held.flow(),
                cause(error).getMessage());
        return loop.submit(() -> {
            held.resumeAfterFailedRelease();
            return null;
        }).thenCompose(v -> domain.runtime().batcher().steer(domain.config().bridge(), List.of(held.flow())))
                .thenCompose(v -> loop.submit(() -> {
                    held.releaser(null);
                    held.startHolding(loop);
                    return (ConnectionState) null;
                }))
                .handle((v, resumeError) -> {
                    if (resumeError != null) {
                        giveUp(domain, held, "resume after failed release failed: " + cause(resumeError).getMessage());
                    }
                    throw new CompletionException(cause(error));
                });
    }

    static void giveUp(DomainHolds domain, HeldConnection held, String why) {
        CopyLoop loop = domain.runtime().loop();
        domain.runtime().batcher().unsteer(domain.config().bridge(), List.of(held.flow()))
                .handle((v, unsteerError) -> loop.submit(() -> {
                    held.discard(loop);
                    held.fail(why + (unsteerError == null ? "" : "; unsteer failed too: " + cause(unsteerError).getMessage()));
                    domain.remove(held);
                    return null;
                }));
    }

    /** The exception inside CompletableFuture's wrappers. */
    public static Throwable cause(Throwable error) {
        while ((error instanceof CompletionException || error instanceof java.util.concurrent.ExecutionException)
                && error.getCause() != null) {
            error = error.getCause();
        }
        return error;
    }
}
