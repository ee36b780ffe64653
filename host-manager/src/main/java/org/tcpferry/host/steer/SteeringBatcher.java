package org.tcpferry.host.steer;

import java.io.Closeable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tcpferry.protocol.FlowKey;

/**
 * Group commit for {@link FlowSteering}: each nftables transaction costs a parse, a cache check
 * and a netlink round trip (and was an nft process of 5-35 ms before the context became
 * long-lived, kernel-notes item 12), so steer and unsteer requests that arrive while one batch
 * runs are merged into the next. A handoff of 1000 connections then costs a few transactions, not
 * 1000, while each request still completes only once its own flow is (un)steered. Requests keep
 * their order: consecutive requests of the same kind and bridge are merged, nothing is reordered.
 *
 * <p>A transaction takes at most {@value #MAX_FLOWS} flows: the first flows of a large release
 * are unsteered, dumped and given back while the next are still being unsteered, instead of every
 * peer waiting from one large unsteer until the last copy is dumped (the peer is stalled from its
 * flow's unsteer until the guest unblocks it).
 */
public final class SteeringBatcher implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(SteeringBatcher.class);
    /** Flows per nftables transaction: about 1-2 ms of nft work each here. */
    static final int MAX_FLOWS = 128;
    /**
     * How long a steer waits for more steers before its transaction starts. Steers come one per
     * copy, as the copy loop restores a chunk of handoffs (tens of µs apart): without the wait the
     * first of a chunk went alone and the rest trickled into many small transactions, each with
     * the same fixed cost (at 10,000 handoffs nft used 43 µs of CPU per flow). Unsteers do not
     * wait: the peer is stalled from its flow's unsteer on, and they come in bursts anyway.
     */
    static final long STEER_LINGER_NANOS = 1_000_000;

    private final FlowSteering steering;
    private final BlockingQueue<Request> pending = new LinkedBlockingQueue<>();
    private final Thread worker;
    private volatile boolean running = true;

    public SteeringBatcher(FlowSteering steering, String name) {
        this.steering = steering;
        this.worker = new Thread(this::work, "steering-" + name);
        worker.setDaemon(true);
        worker.start();
    }

    /** Completes once {@code flows} are diverted to this host on {@code bridge}. */
    public CompletableFuture<Void> steer(String bridge, Collection<FlowKey> flows) {
        return enqueue(new Request(true, bridge, List.copyOf(flows)));
    }

    /** Completes once {@code flows} go to the guest's port again. */
    public CompletableFuture<Void> unsteer(String bridge, Collection<FlowKey> flows) {
        return enqueue(new Request(false, bridge, List.copyOf(flows)));
    }

    public FlowSteering steering() {
        return steering;
    }

    private CompletableFuture<Void> enqueue(Request request) {
        if (!running) {
            request.done.completeExceptionally(new IllegalStateException("steering is stopped"));
        } else {
            pending.add(request);
        }
        return request.done;
    }

    private void work() {
        List<Request> batch = new ArrayList<>();
        while (running || !pending.isEmpty()) {
            try {
                Request first = pending.take();
                batch.add(first);
                pending.drainTo(batch);
                if (first.steer) {
                    lingerForSteers(batch);
                }
            } catch (InterruptedException e) {
                if (!running) {
                    break;
                }
                continue;
            }
            int i = 0;
            while (i < batch.size()) {
                int j = i;
                Request head = batch.get(i);
                List<FlowKey> flows = new ArrayList<>();
                while (j < batch.size() && batch.get(j).steer == head.steer && batch.get(j).bridge.equals(head.bridge)
                        && (j == i || flows.size() + batch.get(j).flows.size() <= MAX_FLOWS)) {
                    flows.addAll(batch.get(j).flows);
                    j++;
                }
                apply(head, flows, batch.subList(i, j));
                i = j;
            }
            batch.clear();
        }
        Request left;
        while ((left = pending.poll()) != null) {
            left.done.completeExceptionally(new IllegalStateException("steering is stopped"));
        }
    }

    /** Adds the requests that come within {@link #STEER_LINGER_NANOS}, until a transaction's worth of flows. */
    private void lingerForSteers(List<Request> batch) {
        long deadline = System.nanoTime() + STEER_LINGER_NANOS;
        int flows = batch.stream().mapToInt(r -> r.flows.size()).sum();
        while (flows < MAX_FLOWS) {
            Request more;
            try {
                more = pending.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException stopping) {
                // close(): apply what was taken; the flag ends the loop at its next take()
                Thread.currentThread().interrupt();
                return;
            }
            if (more == null) {
                return;
            }
            batch.add(more);
            flows += more.flows.size();
        }
    }

    private void apply(Request head, List<FlowKey> flows, List<Request> requests) {
        long start = System.nanoTime();
        try {
            if (head.steer) {
                steering.steer(head.bridge, flows);
            } else {
                steering.unsteer(head.bridge, flows);
            }
            log.debug("event={} bridge={} flows={} requests={} micros={}", head.steer ? "steer_batch" : "unsteer_batch",
                    head.bridge, flows.size(), requests.size(), (System.nanoTime() - start) / 1000);
            requests.forEach(r -> r.done.complete(null));
        } catch (Exception e) {
            log.error("event={} bridge={} flows={} error=\"{}\"", head.steer ? "steer_failed" : "unsteer_failed",
                    head.bridge, flows.size(), e.getMessage());
            requests.forEach(r -> r.done.completeExceptionally(e));
        }
    }

    /** Stops after the requests already queued; does not remove steering. */
    @Override
    public void close() {
        running = false;
        worker.interrupt();
        try {
            worker.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static final class Request {
        final boolean steer;
        final String bridge;
        final List<FlowKey> flows;
        final CompletableFuture<Void> done = new CompletableFuture<>();

        Request(boolean steer, String bridge, List<FlowKey> flows) {
            this.steer = steer;
            this.bridge = bridge;
            this.flows = flows;
        }
    }
}
