package org.tcpferry.agent.core;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tcpferry.agent.channel.ChannelEndpoint;
import org.tcpferry.agent.channel.Session;
import org.tcpferry.diag.Capabilities;
import org.tcpferry.diag.CapabilityReport;
import org.tcpferry.diag.Feature;
import org.tcpferry.diag.SocketOwner;
import org.tcpferry.netns.NetNamespace;
import org.tcpferry.protocol.Ack;
import org.tcpferry.protocol.ConnectionStateCodec;
import org.tcpferry.protocol.ErrorCode;
import org.tcpferry.protocol.ErrorReply;
import org.tcpferry.protocol.FlowKey;
import org.tcpferry.protocol.Frames;
import org.tcpferry.protocol.HandoffAccepted;
import org.tcpferry.protocol.HandoffQuery;
import org.tcpferry.protocol.HolderToken;
import org.tcpferry.protocol.HandoffComplete;
import org.tcpferry.protocol.HandoffOrder;
import org.tcpferry.protocol.HandoffRequest;
import org.tcpferry.protocol.Hello;
import org.tcpferry.protocol.HelloReply;
import org.tcpferry.protocol.Message;
import org.tcpferry.protocol.ReclaimOrder;
import org.tcpferry.protocol.ReleaseAbort;
import org.tcpferry.protocol.ReleaseConfirm;
import org.tcpferry.protocol.ReleaseGranted;
import org.tcpferry.protocol.ReleaseRequest;
import org.tcpferry.protocol.Selection;
import org.tcpferry.protocol.StatusReply;
import org.tcpferry.protocol.StatusRequest;
import org.tcpferry.repair.ConnectionState;
import org.tcpferry.repair.TcpRepair;
import org.tcpferry.repair.UnsupportedStateException;
import org.tcpferry.sys.NativeSocket;
import org.tcpferry.sys.Pidfd;
import org.tcpferry.sys.SockAddr;
import org.tcpferry.sys.SyscallException;

/**
 * The guest agent: serves the host manager's channel, hands connections off on a HandoffOrder,
 * takes them back on a ReclaimOrder (or by itself when a host connects after a handoff), rolls
 * back what the host did not take, and finishes or undoes an interrupted operation from its
 * journal when it starts.
 *
 * <p>All socket work runs on one work thread inside the guest's network namespace (conform and
 * restore must run there), one operation at a time; the channel's reader thread only completes
 * replies and queues orders. Every phase change of a connection is journaled before the next
 * irreversible step.
 */
public final class Agent implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(Agent.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long REPLY_TIMEOUT_SECONDS = 120;
    /** Room for the HandoffRequest's other fields next to the encoded state. */
    private static final int FRAME_OVERHEAD = 4096;
    /**
     * Connections dumped, then journaled in one record, then detached and sent, at a time: small
     * enough that the host restores copies while the agent dumps the next chunk, large enough that
     * the journal's write and fsync are paid per chunk, not per connection.
     */
    private static final int DUMP_CHUNK = 128;
    /**
     * A chunk is dumped (and the next one blocked) only once the host has answered every request
     * of the chunk this many before it. The host restores more slowly than the agent dumps; without
     * the bound the agent ran up to a second ahead at 10,000 connections, and each blocked peer
     * waited for the host to work through everything sent before its chunk (peer stall at handoff
     * up to 1.6 s). The host's throughput is the same: it always has the previous chunk to restore.
     */
    private static final int CHUNKS_AHEAD = 3;
    /** ReleaseRequests out at a time in a reclaim (see {@link #reclaim}). */
    private static final int RELEASE_WINDOW = 256;
    /**
     * In a reclaim, confirms go out and their answers are taken whenever the agent would wait for
     * the next grant, and at least every this many grants (when grants come faster than the agent
     * conforms, it never waits); acknowledged connections are then let go (see {@link LetGoQueue}).
     */
    private static final int LET_GO_EVERY = 16;

    private final AgentConfig config;
    private final ExecutorService worker;
    private final Journal journal;
    private final GuestFirewall firewall;
    private final Freezer freezer;
    private final ConnectionSelector selector = new ConnectionSelector();
    private final ChannelEndpoint endpoint;
    private final Map<FlowKey, Carried> carried = new ConcurrentHashMap<>();
    private final Set<FreezeUnit> frozen = ConcurrentHashMap.newKeySet();
    private final CarriedReports reports = new CarriedReports();
    private final Thread channelThread;
    private volatile CrashPoint crashAt = CrashPoint.NONE;
    private volatile CrashPoint faultAt = CrashPoint.NONE;
    private volatile Runnable fault;
    private volatile boolean killAtCrash;
    private volatile boolean dead;
    /** The last unblock started and not awaited yet (work thread only); see {@link #letGo}. */
    private GuestFirewall.Change unblocking;
    /** The configured domain, or the one the host named in its Hello. */
    private volatile String domain;

    private Agent(AgentConfig config) throws IOException {
        this.config = config;
        this.domain = config.domain();
        this.worker = config.netns() == null
                ? Executors.newSingleThreadExecutor(r -> new Thread(r, "agent-work"))
                : NetNamespace.at(config.netns()).executor("agent-work");
        this.journal = new Journal(config.journal());
        this.firewall = new GuestFirewall(config.netns());
        this.freezer = Freezer.forThisProcess();
        this.endpoint = new ChannelEndpoint(config.channel());
        this.channelThread = new Thread(() -> endpoint.serve(new ChannelHandler()), "agent-channel");
        channelThread.setDaemon(true);
    }

    /** Recovers from the journal (finishing or undoing an interrupted operation), then serves the channel. */
    /** What the agent needs of the guest: repair, discovery, reaching other processes' sockets, nft. */
    static final Set<Feature> REQUIRED = EnumSet.of(Feature.CAP_NET_ADMIN, Feature.CAP_SYS_PTRACE, Feature.TCP_REPAIR,
            Feature.SOCK_DIAG, Feature.PIDFD, Feature.NFT);

    public static Agent start(AgentConfig config) throws IOException {
        CapabilityReport capabilities = Capabilities.probe();
        log.info("event=capabilities report=\"{}\"", capabilities.toString().replace('\n', ';'));
        capabilities.require("tcpferry-agent", REQUIRED);
        Agent agent = new Agent(config);
        try {
            agent.onWorker(agent::recover).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            agent.close();
            throw new IOException("interrupted during recovery", e);
        } catch (ExecutionException e) {
            agent.close();
            throw new IOException("recovery from " + config.journal() + " failed: " + e.getCause().getMessage(), e.getCause());
        }
        agent.channelThread.start();
        log.info("event=started node={} domain={} channel={} journal={} netns={}", config.node(), config.domain(),
                config.channel(), config.journal(), config.netns());
        return agent;
    }

    /** For recovery tests: stop dead at {@code point}, as a kill -9 would. */
    public void simulateCrashAt(CrashPoint point) {
        this.crashAt = point;
    }

    /**
     * For tests of faults around the agent: at {@code point} the agent runs {@code fault} once (for
     * example, cuts a link between host managers) and goes on as if nothing happened.
     */
    public void faultAt(CrashPoint point, Runnable fault) {
        this.fault = fault;
        this.faultAt = point;
    }

    /** For tests of a real agent process: at {@code point} the process kills itself with SIGKILL. */
    public void killAt(CrashPoint point) {
        this.crashAt = point;
        this.killAtCrash = true;
    }

    /** True once a simulated crash happened: the agent does nothing more. */
    public boolean crashed() {
        return dead;
    }

    /** The connections being carried now (a snapshot). */
    public List<Carried> connections() {
        return List.copyOf(carried.values());
    }

    /** Reports of the connections that came back (or failed), in order, since start (the last {@value CarriedReports#KEPT}). */
    public List<CarriedReport> reports() {
        return reports.all();
    }

    /** The open channel session, or null. */
    public Session session() {
        return endpoint.current();
    }

    /** Status document, as sent in StatusReply. */
    public ObjectNode status() {
        ObjectNode root = JSON.createObjectNode();
        root.put("node", config.node());
        root.put("domain", domain);
        root.put("channel", config.channel());
        root.put("connected", endpoint.current() != null);
        Map<Phase, Integer> counts = new EnumMap<>(Phase.class);
        ArrayNode list = root.putArray("connections");
        for (Carried c : carried.values()) {
            counts.merge(c.phase, 1, Integer::sum);
            ObjectNode n = list.addObject();
            n.put("flow", c.flow.toString());
            n.put("phase", c.phase.name());
            n.put("ownerPid", c.ownerPid);
            n.put("ownerFd", c.ownerFd);
            if (c.holder != null) {
                n.put("holder", c.holder);
            }
            if (c.error != null) {
                n.put("error", c.error);
            }
        }
        ObjectNode phases = root.putObject("phases");
        counts.forEach((p, n) -> phases.put(p.name(), n));
        root.set("carried", reportsJson(reports.all()));
        return root;
    }

    /** One object per report: flow, phase, bytesFromPeer, bytesToPeer, heldMillis, and note when there is one. */
    private static ArrayNode reportsJson(List<CarriedReport> list) {
        ArrayNode done = JSON.createArrayNode();
        for (CarriedReport r : list) {
            ObjectNode n = done.addObject();
            n.put("flow", r.flow());
            n.put("phase", r.phase().name());
            n.put("bytesFromPeer", r.bytesFromPeer());
            n.put("bytesToPeer", r.bytesToPeer());
            n.put("heldMillis", r.heldMillis());
            if (!r.note().isEmpty()) {
                n.put("note", r.note());
            }
        }
        return done;
    }

    // ---------------------------------------------------------------- the channel

    private final class ChannelHandler implements Session.Handler {
        @Override
        public void onRequest(Session session, int id, Message message) {
            if (dead) {
                return;
            }
            try {
                if (message instanceof Hello hello) {
                    log.info("event=hello from={} role={}", hello.nodeName(), hello.role());
                    if (config.domain().isEmpty() && !hello.domain().isEmpty()) {
                        domain = hello.domain(); // the host's Hello names the domain this channel serves
                    }
                    session.peerNode(hello.nodeName());
                    session.send(id, new HelloReply(config.node(), Frames.VERSION));
                    boolean unanswered = carried.values().stream().anyMatch(c -> c.askHost);
                    if (unanswered || (config.reclaimOnReconnect() && countIn(Phase.HANDED_OFF) > 0)) {
                        onWorker(() -> {
                            askHostAboutUnanswered(session);
                            if (config.reclaimOnReconnect() && countIn(Phase.HANDED_OFF) > 0) {
                                log.info("event=reclaim_on_reconnect handed_off={}", countIn(Phase.HANDED_OFF));
                                reclaim(session, -1);
                            }
                        });
                    }
                } else if (message instanceof HandoffOrder order) {
                    onWorker(() -> handoff(session, id, order.selection()));
                } else if (message instanceof ReclaimOrder) {
                    onWorker(() -> reclaim(session, id));
                } else if (message instanceof StatusRequest) {
                    session.send(id, new StatusReply(status().toString()));
                } else {
                    session.send(id, new ErrorReply(ErrorCode.UNEXPECTED, message.type() + " is not accepted by the guest agent"));
                }
            } catch (IOException e) {
                log.warn("event=reply_failed channel={} error=\"{}\"", session, e.getMessage());
            }
        }

        @Override
        public void onClosed(Session session) {
            log.info("event=channel_closed channel={}", session);
        }
    }

    private interface Work {
        void run() throws Exception;
    }

    private Future<?> onWorker(Work work) {
        return worker.submit(() -> {
            if (dead) {
                return null;
            }
            try {
                work.run();
            } catch (SimulatedCrash crash) {
                log.warn("event=simulated_crash point={}", crash.getMessage());
            } catch (Exception | Error e) {
                log.error("event=operation_failed error=\"{}\" connections={}", e, carried.size(), e);
            }
            return null;
        });
    }

    // ---------------------------------------------------------------- handoff

    /**
     * Runs a handoff order. If a step fails for the whole batch (listing sockets, freezing,
     * nft), every connection of the batch the host has not accepted is put back as it was and the
     * order is answered with ErrorReply INTERNAL.
     */
    private void handoff(Session session, int orderId, Selection selection) throws Exception {
        List<Carried> batch = new ArrayList<>();
        try {
            handoff(session, orderId, selection, batch);
        } catch (SimulatedCrash crash) {
            throw crash;
        } catch (Exception e) {
            log.error("event=handoff_failed error=\"{}\" batch={}", e, batch.size(), e);
            for (Carried c : batch) {
                if (c.phase == Phase.DUMPED) {
                    rollBack(c, "handoff failed: " + e.getMessage());
                } else if (c.phase == Phase.SELECTED || c.phase == Phase.FROZEN) {
                    if (c.socket != null) {
                        leaveInPlace(c, "handoff failed: " + e.getMessage());
                    } else {
                        c.phase = Phase.ROLLED_BACK; // never touched
                        c.error = "handoff failed: " + e.getMessage();
                    }
                }
            }
            settle();
            try {
                session.send(orderId, new ErrorReply(ErrorCode.INTERNAL, "handoff failed: " + e.getMessage()));
            } catch (IOException sendFailure) {
                log.warn("event=handoff_error_not_sent error=\"{}\"", sendFailure.getMessage());
            }
        }
    }

    private void handoff(Session session, int orderId, Selection selection, List<Carried> batch) throws Exception {
        long start = System.nanoTime();
        Set<String> alreadyCarried = new HashSet<>();
        carried.keySet().forEach(f -> alreadyCarried.add(f.toString()));
        List<ConnectionSelector.Candidate> candidates = selector.select(selection, alreadyCarried);
        Set<FreezeUnit> units = new LinkedHashSet<>();
        Map<Integer, FreezeUnit> unitOfPid = new HashMap<>(); // one /proc read per owner, not per socket
        for (ConnectionSelector.Candidate candidate : candidates) {
            List<FreezeUnit> own = new ArrayList<>();
            for (SocketOwner o : candidate.owners()) {
                FreezeUnit unit = unitOfPid.get(o.pid());
                if (unit == null) {
                    unit = freezer.unitFor(o.pid(), o.cgroup());
                    unitOfPid.put(o.pid(), unit);
                }
                if (!own.contains(unit)) {
                    own.add(unit);
                }
            }
            SocketOwner first = candidate.owners().get(0);
            Carried c = new Carried(new FlowKey(candidate.socket().local(), candidate.socket().remote()), first.pid(),
                    first.fd(), candidate.socket().inode(), own);
            c.family = candidate.socket().family();
            batch.add(c);
            units.addAll(own);
        }
        long selectedAt = System.nanoTime();
        log.info("event=handoff_order selected={} units={} select_ms={} selection={}", batch.size(), units.size(),
                (selectedAt - start) / 1_000_000, selection);
        for (Carried c : batch) {
            carried.put(c.flow, c);
        }
        journal.writeAll(batch); // one record for the batch: nothing irreversible has happened to any yet
        if (carried.size() == batch.size()) {
            firewall.reset(List.of()); // a fresh table, also after an agent that died without a journal
        }
        freezeAll(units);
        long frozenAt = System.nanoTime();

        Map<Carried, CompletableFuture<Message>> replies = new LinkedHashMap<>();
        long waitedNanos;
        try (OwnerPidfds pidfds = new OwnerPidfds()) {
            waitedNanos = dumpAndSend(session, batch, pidfds, replies);
        }
        long dumpedAt = System.nanoTime();
        // Acceptances are journaled in groups: those that have arrived, each time the agent would
        // otherwise wait for the next, so none waits long for its record.
        List<Carried> accepted = new ArrayList<>();
        for (Map.Entry<Carried, CompletableFuture<Message>> e : replies.entrySet()) {
            Carried c = e.getKey();
            if (!e.getValue().isDone()) {
                journal.writeAll(accepted);
                accepted.clear();
            }
            Message reply = await(e.getValue(), c);
            if (reply instanceof HandoffAccepted acceptance) {
                crashIf(CrashPoint.BEFORE_ACCEPTANCE_JOURNALED);
                c.token = acceptance.token();
                // The token names the host that holds the copy; it is not this channel's host when the
                // operator placed the copies elsewhere (--hold-on).
                String holder = HolderToken.holder(acceptance.token());
                c.holder = holder != null ? holder : session.peerNode();
                c.handedOffAtNanos = System.nanoTime();
                c.phase = Phase.HANDED_OFF;
                accepted.add(c);
                log.trace("event=handed_off flow={} phase={}", c.flow, c.phase); // handoff_done sums them up
            } else if (unanswered(reply)) {
                // The host may have taken it and its answer was lost with the channel: restoring from
                // the dump could race a live copy, so the host is asked (now, or when one reconnects
                // within ASK_HOST_MILLIS; after that the dump is restored, see rollBackUnanswered).
                c.askHost = true;
                c.error = "no answer from the host (" + describe(reply) + "): asking it whether it took it";
            } else {
                rollBack(c, "host did not take it: " + describe(reply));
            }
        }
        journal.writeAll(accepted);
        if (batch.stream().anyMatch(c -> c.askHost)) {
            if (session.isOpen()) {
                askHostAboutUnanswered(session);
            }
            CompletableFuture.delayedExecutor(ASK_HOST_MILLIS, TimeUnit.MILLISECONDS)
                    .execute(() -> onWorker(this::rollBackUnanswered));
        }
        crashIf(CrashPoint.BEFORE_HANDOFF_COMPLETE);
        try {
            session.request(orderId, new HandoffComplete(replies.size()));
        } catch (IOException e) {
            log.warn("event=handoff_complete_not_sent error=\"{}\"", e.getMessage());
        }
        settle();
        log.info("event=handoff_done selected={} handed_off={} rolled_back={} failed={} select_ms={} journal_freeze_block_ms={}"
                + " dump_send_ms={} waited_ms={} total_ms={}", batch.size(), countIn(Phase.HANDED_OFF),
                count(batch, Phase.ROLLED_BACK), count(batch, Phase.FAILED), (selectedAt - start) / 1_000_000,
                (frozenAt - selectedAt) / 1_000_000, (dumpedAt - frozenAt - waitedNanos) / 1_000_000,
                waitedNanos / 1_000_000, (System.nanoTime() - start) / 1_000_000);
    }

    /**
     * Chunk by chunk: the chunk's flows are blocked (just before their dumps, so that a peer is
     * stalled from its flow's block until its copy is steered, not for the whole batch), dumped,
     * and the dumps journaled in one record before any of its sockets is detached; the chunk's
     * requests go out in one write right after its detaches, so the host restores copies while
     * the agent works on the next chunk. The next chunk's block runs on the firewall's thread
     * while this chunk is dumped.
     */
    private long dumpAndSend(Session session, List<Carried> batch, OwnerPidfds pidfds,
            Map<Carried, CompletableFuture<Message>> replies) throws IOException {
        GuestFirewall.Change next = batch.isEmpty() ? null : firewall.startBlocking(flows(chunk(batch, 0)));
        List<CompletableFuture<Void>> answered = new ArrayList<>(); // per chunk sent: all its replies in
        long waited = 0; // for the host's answers and the firewall: what handoff_done's dump_send_ms leaves out
        try {
            for (int from = 0; from < batch.size(); from += DUMP_CHUNK) {
                List<Carried> chunk = chunk(batch, from);
                long t0 = System.nanoTime();
                int k = from / DUMP_CHUNK;
                if (k >= CHUNKS_AHEAD) {
                    awaitAnswers(answered.get(k - CHUNKS_AHEAD));
                }
                next.await();
                next = from + DUMP_CHUNK < batch.size() ? firewall.startBlocking(flows(chunk(batch, from + DUMP_CHUNK))) : null;
                chunk.forEach(c -> c.phase = Phase.FROZEN);
                long t1 = System.nanoTime();
                waited += t1 - t0;
                List<Carried> dumped = new ArrayList<>();
                for (Carried c : chunk) {
                    if (dump(c, pidfds)) {
                        dumped.add(c);
                    }
                }
                long t2 = System.nanoTime();
                journal.writeAll(dumped);
                long t3 = System.nanoTime();
                List<HandoffRequest> requests = new ArrayList<>(dumped.size());
                for (Carried c : dumped) {
                    TcpRepair.detach(c.socket); // in CLOSE no timer runs while the host holds the connection
                    crashIf(CrashPoint.AFTER_DUMP);
                    requests.add(new HandoffRequest(domain, c.dump));
                }
                long t4 = System.nanoTime();
                List<CompletableFuture<Message>> sent = session.requestAll(requests); // one write per chunk
                for (int i = 0; i < dumped.size(); i++) {
                    replies.put(dumped.get(i), sent.get(i));
                }
                answered.add(CompletableFuture.allOf(sent.toArray(new CompletableFuture<?>[0])));
                long t5 = System.nanoTime();
                log.debug("event=chunk_sent connections={} wait_us={} dump_us={} journal_us={} detach_us={} send_us={}",
                        dumped.size(), (t1 - t0) / 1000, (t2 - t1) / 1000, (t3 - t2) / 1000, (t4 - t3) / 1000,
                        (t5 - t4) / 1000);
            }
        } finally {
            if (next != null) {
                // A failure left the next chunk's block under way: once it is recorded, the rollback unblocks it too.
                try {
                    next.await();
                } catch (IOException e) {
                    log.warn("event=block_failed_after_failure error=\"{}\"", e.getMessage());
                }
            }
        }
        return waited;
    }

    /**
     * Waits (within the reply timeout) until the host answered every request of a chunk sent
     * earlier, whatever the answers: they are read in order after the last chunk.
     */
    private static void awaitAnswers(CompletableFuture<Void> chunkAnswered) {
        try {
            chunkAnswered.get(REPLY_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // a failed or missing answer is handled with the others, when the replies are read
        }
    }

    private static List<Carried> chunk(List<Carried> batch, int from) {
        return batch.subList(from, Math.min(batch.size(), from + DUMP_CHUNK));
    }

    private static List<FlowKey> flows(List<Carried> chunk) {
        return chunk.stream().map(c -> c.flow).toList();
    }

    private void freezeAll(Set<FreezeUnit> units) throws IOException {
        frozen.addAll(units);
        journal.writeFrozen(List.copyOf(frozen)); // before freezing: a restart thaws what may be frozen
        for (FreezeUnit unit : units) {
            freezer.freeze(unit);
            log.debug("event=frozen unit={}", unit);
        }
    }

    /**
     * Dumps {@code c} (its socket stays in repair mode, not yet detached) and returns true; or
     * puts it back as it was and returns false. The caller journals the dump before it detaches
     * the socket: a journal without a dump means the socket was never detached.
     */
    private boolean dump(Carried c, OwnerPidfds pidfds) throws IOException {
        try {
            c.socket = NativeSocket.adopt(pidfds.duplicate(c.ownerPid, c.ownerFd), c.flow.toString(), c.family);
            if (c.socket.inode() != c.inode) {
                // The owner closed the selected socket and reused its descriptor before it was frozen:
                // the duplicate is of another socket, which must not be dumped under this flow.
                c.socket.close(); // our duplicate only
                c.socket = null;
                c.error = "fd " + c.ownerFd + " of process " + c.ownerPid + " no longer holds the selected socket";
                c.phase = Phase.ROLLED_BACK; // nothing was done to it
                log.warn("event=not_carried flow={} why=\"{}\"", c.flow, c.error);
                journal.write(c);
                return false;
            }
        } catch (SyscallException e) {
            fail(c, "cannot reach the owner's descriptor: " + e.getMessage());
            return false;
        }
        ConnectionState dump;
        try {
            // The flow is known from sock_diag: no getsockname/getpeername. The dump records the
            // addresses as those calls report them, without a link-local scope id.
            dump = TcpRepair.dump(c.socket, SockAddr.unscoped(c.flow.local()), SockAddr.unscoped(c.flow.remote()));
        } catch (UnsupportedStateException e) {
            c.error = e.getMessage();
            c.phase = Phase.ROLLED_BACK; // nothing changed
            journal.write(c);
            return false;
        } catch (IOException e) {
            leaveInPlace(c, "dump failed: " + e.getMessage());
            return false;
        }
        byte[] encoded = ConnectionStateCodec.encode(dump);
        if (encoded.length > Frames.DEFAULT_MAX_PAYLOAD - FRAME_OVERHEAD) {
            leaveInPlace(c, "its queues do not fit one frame");
            return false;
        }
        c.dump(dump, encoded);
        c.phase = Phase.DUMPED;
        return true;
    }

    /** Undoes a dump that went no further: repair mode off, the socket unchanged. */
    private void leaveInPlace(Carried c, String why) throws IOException {
        c.error = why;
        try {
            TcpRepair.resume(c.socket);
            c.phase = Phase.ROLLED_BACK;
            log.warn("event=left_in_place flow={} why=\"{}\"", c.flow, why);
        } catch (SyscallException e) {
            c.phase = Phase.FAILED;
            c.error = why + "; leaving repair mode failed: " + e.getMessage();
            log.error("event=failed flow={} why=\"{}\"", c.flow, c.error);
        }
        journal.write(c);
    }

    /** The host never took it over: the original socket carries the connection again from the agent's own dump. */
    private void rollBack(Carried c, String why) throws IOException {
        c.error = why;
        try {
            TcpRepair.conformInPlace(c.socket, c.dump);
            c.phase = Phase.ROLLED_BACK;
            log.warn("event=rolled_back flow={} phase={} why=\"{}\"", c.flow, c.phase, why);
        } catch (IOException e) {
            fail(c, why + "; rollback failed: " + e.getMessage());
            return;
        }
        journal.write(c);
    }

    private void fail(Carried c, String why) throws IOException {
        c.phase = Phase.FAILED;
        c.error = why;
        log.error("event=failed flow={} phase={} why=\"{}\"", c.flow, c.phase, why);
        journal.write(c);
    }

    // ---------------------------------------------------------------- reclaim

    /** Takes back every handed-off connection; answers the order ({@code orderId} < 0: none) with Ack. */
    private void reclaim(Session session, int orderId) throws Exception {
        long start = System.nanoTime();
        long reportsBefore = reports.mark();
        List<Carried> out = carried.values().stream().filter(c -> c.phase == Phase.HANDED_OFF).toList();
        log.info("event=reclaim connections={} channel={}", out.size(), session);
        // At most RELEASE_WINDOW requests are out at a time: the host unsteers a flow when its
        // request arrives, and the peer is stalled from then until the guest unblocks it, so a
        // request sent long before the host can dump its copy would only lengthen that stall.
        // The window is refilled half a window at a time, so that the host still unsteers
        // many flows per nftables transaction (one at a time made the transactions the bottleneck).
        List<CompletableFuture<Message>> grants = new ArrayList<>(out.size());
        refillReleases(session, out, grants, 0);
        // Each grant is handled as it arrives, in order: conform, then confirm. Each connection
        // whose confirm the host acknowledges is let go soon after (flow unblocked, owners thawed
        // once none of their connections is still out), so a peer waits for its own connection,
        // not for the whole batch. Not before the Ack: without it the host holds the flow again,
        // and the conformed socket must stay silent until the next reclaim conforms it afresh.
        LetGoQueue letGoQueue = new LetGoQueue(new FreezeRefs(carried.values()));
        Map<Carried, CompletableFuture<Message>> confirms = new LinkedHashMap<>();
        // Confirms of the sockets conformed since the agent last waited go out together, in one
        // write, whenever it is about to wait or let connections go (a write each cost about 8 %
        // of the agent's samples at N = 10,000); the flows stay blocked until acknowledged anyway.
        List<Carried> conformed = new ArrayList<>();
        boolean first = true;
        for (int i = 0; i < out.size(); i++) {
            Carried c = out.get(i);
            if (!grants.get(i).isDone() || i % LET_GO_EVERY == LET_GO_EVERY - 1) {
                sendConfirms(session, conformed, confirms);
                takeConfirms(confirms, letGoQueue, false);
            }
            Message reply = await(grants.get(i), c);
            refillReleases(session, out, grants, i + 1);
            if (reply instanceof ReleaseGranted granted) {
                if (conformToGrant(c, granted)) {
                    if (first) {
                        first = false;
                        crashIf(CrashPoint.AFTER_FIRST_CONFORM);
                    }
                    conformed.add(c);
                } else {
                    session.request(new ReleaseAbort(c.flow, c.token));
                    backToHost(c, "conform failed; the host holds it again");
                }
            } else if (reply instanceof ErrorReply error && error.code() == ErrorCode.UNKNOWN_FLOW) {
                if (isLive(c)) {
                    // Confirmed before a restart, journal not updated: the host forgot it, the socket carries it.
                    c.phase = Phase.CONFORMED;
                    c.error = null;
                    journal.write(c);
                } else if (session.peerNode().equals(c.holder) || c.holder.equals(error.relayedFrom())) {
                    abandon(c, "the host holds no copy any more: " + error.message());
                } else {
                    // A host that neither holds the copy nor relayed to its holder: the holder still
                    // has the live copy, so wait for a host that can reach it.
                    backToHost(c, "held by " + c.holder + ", not by " + session.peerNode()
                            + ", which did not relay to it: waiting for " + c.holder);
                }
            } else {
                backToHost(c, "release refused: " + describe(reply));
            }
        }
        sendConfirms(session, conformed, confirms);
        takeConfirms(confirms, letGoQueue, true);
        int back = (int) out.stream().filter(c -> c.phase == Phase.CONFORMED).count();
        settle();
        if (orderId >= 0) {
            // The answer to the order is what this reclaim carried, per connection, for the operator.
            ObjectNode answer = JSON.createObjectNode();
            answer.set("carried", reportsJson(reports.since(reportsBefore)));
            answer.put("stillHandedOff", countIn(Phase.HANDED_OFF));
            try {
                session.send(orderId, new StatusReply(answer.toString()));
            } catch (IOException e) {
                log.warn("event=reclaim_answer_not_sent error=\"{}\"", e.getMessage());
            }
        }
        log.info("event=reclaim_done conformed={} still_handed_off={} total_ms={}", back, countIn(Phase.HANDED_OFF),
                (System.nanoTime() - start) / 1_000_000);
    }

    /** Sends one ReleaseConfirm for each of {@code conformed}, in one write, and empties it. */
    private static void sendConfirms(Session session, List<Carried> conformed,
            Map<Carried, CompletableFuture<Message>> confirms) {
        List<CompletableFuture<Message>> sent = session.requestAll(
                conformed.stream().map(c -> new ReleaseConfirm(c.flow, c.token)).toList());
        for (int k = 0; k < conformed.size(); k++) {
            confirms.put(conformed.get(k), sent.get(k));
        }
        conformed.clear();
    }

    /** With fewer than half a window of the grants from {@code answered} on outstanding, sends requests up to a full window. */
    private static void refillReleases(Session session, List<Carried> out, List<CompletableFuture<Message>> grants,
            int answered) throws IOException {
        if (grants.size() - answered > RELEASE_WINDOW / 2) {
            return;
        }
        List<ReleaseRequest> requests = new ArrayList<>();
        while (grants.size() + requests.size() < out.size() && grants.size() + requests.size() - answered < RELEASE_WINDOW) {
            Carried c = out.get(grants.size() + requests.size());
            // Not journaled: a restart treats RECLAIMING as HANDED_OFF anyway (the host aborts an
            // unconfirmed release and holds the flow again), so the write would buy nothing.
            c.phase = Phase.RECLAIMING;
            requests.add(new ReleaseRequest(c.flow, c.token));
        }
        grants.addAll(session.requestAll(requests)); // one write for the refill
    }

    /**
     * Takes the confirm answers that have arrived, in order (with {@code all}, every answer,
     * waiting for each), and lets each acknowledged connection go; the others go back to the host.
     */
    private void takeConfirms(Map<Carried, CompletableFuture<Message>> confirms, LetGoQueue letGoQueue, boolean all)
            throws IOException {
        List<Carried> confirmed = new ArrayList<>();
        var pending = confirms.entrySet().iterator();
        while (pending.hasNext()) {
            Map.Entry<Carried, CompletableFuture<Message>> e = pending.next();
            if (!e.getValue().isDone()) {
                if (!all) {
                    break;
                }
                letGoQueue.add(confirmed); // let go before waiting for the next, if the firewall is free
                confirmed.clear();
                letGoQueue.letGo(false);
            }
            Carried c = e.getKey();
            Message reply = await(e.getValue(), c);
            pending.remove();
            if (reply instanceof Ack) {
                // Not journaled as CONFORMED: it is forgotten next; a restart before that finds
                // HANDED_OFF, asks again, and UNKNOWN_FLOW on a live socket means CONFORMED.
                c.phase = Phase.CONFORMED;
                c.error = null;
                confirmed.add(c);
            } else {
                // The host holds it again (a release it saw no confirm for is aborted); the flow stays
                // blocked, so the next reclaim conforms the socket afresh.
                backToHost(c, "confirm not acknowledged: " + describe(reply));
            }
        }
        letGoQueue.add(confirmed);
        letGoQueue.letGo(all);
    }

    /**
     * Connections of a reclaim whose confirms the host acknowledged, waiting to be let go. They
     * are let go together as soon as the firewall has applied the previous unblock: the groups
     * grow when nftables is slow (fewer, larger transactions) and stay small when it is quick (a
     * peer waits less), with at most one unblock under way.
     */
    private final class LetGoQueue {
        private final FreezeRefs refs;
        private final List<Carried> waiting = new ArrayList<>();
        private final List<FreezeUnit> thawable = new ArrayList<>();

        LetGoQueue(FreezeRefs refs) {
            this.refs = refs;
        }

        void add(List<Carried> confirmed) {
            waiting.addAll(confirmed);
            thawable.addAll(refs.settled(confirmed));
        }

        /** Lets the waiting connections go if the previous unblock is done, or in any case with {@code now}. */
        void letGo(boolean now) throws IOException {
            if (waiting.isEmpty() || !now && unblocking != null && !unblocking.isDone()) {
                return;
            }
            List<Carried> done = List.copyOf(waiting);
            List<FreezeUnit> units = List.copyOf(thawable);
            waiting.clear();
            thawable.clear();
            Agent.this.letGo(done, units);
        }
    }

    private boolean conformToGrant(Carried c, ReleaseGranted granted) throws IOException {
        try {
            if (granted.peerReset() || granted.finalState() == null) {
                // The peer reset it while the host held it: the socket goes back to its own dump and
                // the peer's answer to its first segment (RST) ends it for the application.
                TcpRepair.conformInPlace(c.socket, c.dump);
                c.error = "peer reset the connection during the hold";
            } else {
                TcpRepair.conformInPlace(c.socket, granted.finalState());
                c.finalState = granted.finalState();
            }
            return true;
        } catch (IOException e) {
            c.error = "conform failed: " + e.getMessage();
            log.error("event=conform_failed flow={} error=\"{}\"", c.flow, e.getMessage());
            return false;
        }
    }

    /**
     * The host lost the connection: what the peer sent it is gone, so the stream cannot continue.
     * The socket is conformed to the agent's dump and then reset (a plain disconnect sends RST), so
     * that the application and the peer get an error instead of waiting forever.
     */
    private void abandon(Carried c, String why) throws IOException {
        try {
            TcpRepair.conformInPlace(c.socket, c.dump);
            c.socket.disconnect();
        } catch (IOException e) {
            why = why + "; reset failed: " + e.getMessage();
        }
        fail(c, why);
    }

    private void backToHost(Carried c, String why) throws IOException {
        c.phase = Phase.HANDED_OFF;
        c.error = why;
        journal.write(c);
        log.warn("event=still_handed_off flow={} why=\"{}\"", c.flow, why);
    }

    /** A detached socket is in CLOSE and has no peer; a conformed one does. */
    private static boolean isLive(Carried c) {
        try {
            c.socket.remoteAddress();
            return true;
        } catch (SyscallException notConnected) {
            return false;
        }
    }

    // ---------------------------------------------------------------- settle, recover

    /**
     * Lets settled connections go: unblocks their flows, thaws every unit no unsettled connection
     * needs, reports them and forgets them. With nothing left, removes the table and the journal.
     */
    private void settle() throws IOException {
        List<Carried> done = carried.values().stream().filter(c -> c.phase.settled()).toList();
        Set<FreezeUnit> needed = new HashSet<>();
        carried.values().stream().filter(c -> !c.phase.settled()).forEach(c -> needed.addAll(c.freezeUnits));
        letGo(done, frozen.stream().filter(unit -> !needed.contains(unit)).toList());
        awaitUnblocking();
        if (carried.isEmpty()) {
            firewall.remove();
            journal.clear();
        }
    }

    /**
     * Lets the settled connections {@code done} go: unblocks their flows, thaws {@code thawable}
     * (units no unsettled connection needs), reports them and forgets them.
     */
    private void letGo(List<Carried> done, List<FreezeUnit> thawable) throws IOException {
        // The unblock runs on the firewall's thread while the agent goes on (conforming the next
        // connections of a reclaim); it is awaited before the next change, before owners are
        // thawed (a thawed owner must find its flows open) and when the operation settles.
        awaitUnblocking();
        unblocking = firewall.startUnblocking(
                done.stream().filter(c -> c.phase != Phase.FAILED || c.dump != null).map(c -> c.flow).toList());
        if (thawable.stream().anyMatch(frozen::contains)) {
            awaitUnblocking();
        }
        boolean thawed = false;
        for (FreezeUnit unit : thawable) {
            if (frozen.contains(unit)) {
                freezer.thaw(unit);
                frozen.remove(unit);
                thawed = true;
            }
        }
        if (thawed) {
            journal.writeFrozen(List.copyOf(frozen));
            log.debug("event=thawed frozen_left={}", frozen.size());
        }
        for (Carried c : done) {
            CarriedReport report = report(c);
            reports.add(report);
            // Per connection at trace when all went well (reclaim_done and the order's answer sum
            // them up: a line each cost the agent about 9 % of a 10,000-connection cycle, and still
            // a few % at debug, which the benchmark turns on); with a note at info.
            if (c.error == null) {
                log.trace("event=carried flow={} phase={} bytes_from_peer={} bytes_to_peer={} held_ms={}", report.flow(),
                        report.phase(), report.bytesFromPeer(), report.bytesToPeer(), report.heldMillis());
            } else {
                log.info("event=carried flow={} phase={} bytes_from_peer={} bytes_to_peer={} held_ms={} note=\"{}\"",
                        report.flow(), report.phase(), report.bytesFromPeer(), report.bytesToPeer(), report.heldMillis(),
                        c.error);
            }
            if (c.socket != null && !c.socket.isClosed()) {
                c.socket.close(); // our duplicate only: the owner's descriptor stays open
            }
        }
        journal.forgetAll(done.stream().map(c -> c.flow).toList());
        done.forEach(c -> carried.remove(c.flow));
    }

    private void awaitUnblocking() throws IOException {
        if (unblocking != null) {
            GuestFirewall.Change change = unblocking;
            unblocking = null;
            change.await();
        }
    }

    private static CarriedReport report(Carried c) {
        long fromPeer = 0;
        long toPeer = 0;
        if (c.finalState != null && c.dump != null) {
            fromPeer = Integer.toUnsignedLong(payloadEnd(c.finalState) - payloadEnd(c.dump));
            toPeer = Integer.toUnsignedLong(c.finalState.sendQueueSeq() - c.dump.sendQueueSeq());
        }
        long held = c.handedOffAtNanos == 0 ? 0 : (System.nanoTime() - c.handedOffAtNanos) / 1_000_000;
        return new CarriedReport(c.flow.toString(), c.phase, fromPeer, toPeer, held, c.error == null ? "" : c.error);
    }

    /** Sequence number just past the last data byte received (the FIN excluded). */
    private static int payloadEnd(ConnectionState s) {
        return s.rcvNxt() - (s.state().finReceived() ? 1 : 0);
    }

    /** Finishes or undoes what a previous agent left in the journal. */
    private void recover() throws IOException {
        List<Journal.Entry> entries = journal.readConnections();
        List<FreezeUnit> wasFrozen = journal.readFrozen();
        if (entries.isEmpty() && wasFrozen.isEmpty()) {
            firewall.remove(); // a table left by an agent that died before journaling anything
            return;
        }
        log.warn("event=recovering connections={} frozen_units={} journal={}", entries.size(), wasFrozen.size(), journal.dir());
        firewall.reset(entries.stream().map(Journal.Entry::flow).toList());
        frozen.addAll(wasFrozen);
        for (Journal.Entry e : entries) {
            Carried c = new Carried(e.flow(), e.ownerPid(), e.ownerFd(), e.inode(), e.units());
            c.dump = e.dump();
            c.token = e.token();
            c.holder = e.holder();
            c.phase = e.phase();
            carried.put(c.flow, c);
            if (c.phase.settled()) {
                continue;
            }
            if (!sameSocket(c)) {
                fail(c, "owner " + c.ownerPid + " no longer holds the socket on fd " + c.ownerFd);
                continue;
            }
            c.socket = NativeSocket.adopt(Pidfd.duplicate(c.ownerPid, c.ownerFd), c.flow.toString());
            switch (c.phase) {
                case SELECTED, FROZEN -> leaveInPlace(c, "agent restarted before the dump was journaled");
                case DUMPED -> {
                    // The HandoffRequest may have been sent and accepted: restoring from the dump now
                    // would race a live copy. The first host to connect says whether it holds it.
                    c.askHost = true;
                    c.error = "agent restarted before journaling the host's answer: asking the next host to connect";
                }
                case HANDED_OFF, RECLAIMING -> backToHost(c, "agent restarted; reclaiming when a host connects");
                default -> throw new IllegalStateException("unexpected phase " + c.phase);
            }
        }
        settle();
        log.info("event=recovered handed_off={}", countIn(Phase.HANDED_OFF));
    }

    /**
     * Asks the host whether it took each connection a previous agent dumped and sent without
     * journaling the answer: HandoffAccepted brings the token back (HANDED_OFF, reclaimed as usual),
     * UNKNOWN_FLOW means the host never took it (restored from the agent's own dump). Any other
     * answer leaves it for the next host connection.
     */
    private void askHostAboutUnanswered(Session session) throws IOException {
        Map<Carried, CompletableFuture<Message>> answers = new LinkedHashMap<>();
        for (Carried c : carried.values()) {
            if (c.askHost) {
                answers.put(c, session.request(new HandoffQuery(c.flow)));
            }
        }
        for (Map.Entry<Carried, CompletableFuture<Message>> e : answers.entrySet()) {
            Carried c = e.getKey();
            Message reply = await(e.getValue(), c);
            if (reply instanceof HandoffAccepted accepted) {
                c.askHost = false;
                c.token = accepted.token();
                String holder = HolderToken.holder(accepted.token());
                c.holder = holder != null ? holder : session.peerNode();
                c.phase = Phase.HANDED_OFF;
                c.error = null;
                journal.write(c);
                log.warn("event=handoff_recovered flow={} holder={} why=\"the host had accepted it before the restart\"",
                        c.flow, c.holder);
            } else if (reply instanceof ErrorReply error && error.code() == ErrorCode.UNKNOWN_FLOW) {
                c.askHost = false;
                rollBack(c, "the host never took it (" + error.message() + ")");
            } else {
                c.error = "asked the host whether it took it: " + describe(reply) + "; asking again at the next connection";
                log.warn("event=handoff_query_unanswered flow={} reply=\"{}\"", c.flow, describe(reply));
            }
        }
        settle();
    }

    /**
     * How long a live agent waits, after a HandoffRequest went unanswered, for a host to say whether
     * it took the connection. The flow is blocked meanwhile, so the wait must stay below the peers'
     * patience; a channel that drops reconnects within about a second.
     */
    private static final long ASK_HOST_MILLIS = 2_000;

    /**
     * No host answered in time: the connection is restored from the agent's own dump. This is
     * right when the host never steered the flow (it died before, or never got the request) and
     * leaves the connection cut off when the answer alone was lost (docs/reliability.md).
     */
    private void rollBackUnanswered() throws IOException {
        boolean any = false;
        for (Carried c : carried.values()) {
            if (c.askHost && c.phase == Phase.DUMPED && c.socket != null) {
                c.askHost = false;
                rollBack(c, "no host answered within " + ASK_HOST_MILLIS + " ms whether it took it");
                any = true;
            }
        }
        if (any) {
            settle();
        }
    }

    private static boolean sameSocket(Carried c) {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc", Integer.toString(c.ownerPid), "fd",
                    Integer.toString(c.ownerFd))).toString();
            return target.equals("socket:[" + c.inode + "]");
        } catch (IOException gone) {
            return false;
        }
    }

    // ---------------------------------------------------------------- helpers

    private Message await(CompletableFuture<Message> reply, Carried c) {
        try {
            return reply.get(REPLY_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new ErrorReply(ErrorCode.INTERNAL, NO_REPLY + "interrupted waiting for the host about " + c.flow);
        } catch (ExecutionException e) {
            return new ErrorReply(ErrorCode.INTERNAL, NO_REPLY + e.getCause().getMessage());
        } catch (TimeoutException e) {
            return new ErrorReply(ErrorCode.INTERNAL, NO_REPLY + "none within " + REPLY_TIMEOUT_SECONDS + " s");
        }
    }

    /** Whether {@code reply} stands for no answer at all (channel lost, timeout), made by {@link #await}. */
    private static boolean unanswered(Message reply) {
        return reply instanceof ErrorReply e && e.code() == ErrorCode.INTERNAL && e.message().startsWith(NO_REPLY);
    }

    private static final String NO_REPLY = "no reply: ";

    private static String describe(Message reply) {
        return reply instanceof ErrorReply e ? e.code() + " " + e.message() : String.valueOf(reply);
    }

    private int countIn(Phase phase) {
        return (int) carried.values().stream().filter(c -> c.phase == phase).count();
    }

    private static long count(List<Carried> list, Phase phase) {
        return list.stream().filter(c -> c.phase == phase).count();
    }

    private void crashIf(CrashPoint point) {
        if (faultAt == point) {
            faultAt = CrashPoint.NONE;
            log.warn("event=fault_point point={}", point);
            fault.run();
        }
        if (crashAt == point && killAtCrash) {
            log.warn("event=crash_point point={} pid={}", point, ProcessHandle.current().pid());
            org.tcpferry.sys.SelfKill.now();
        }
        if (crashAt == point) {
            dead = true;
            try {
                endpoint.close();
            } catch (IOException e) {
                log.warn("event=crash_close_failed error=\"{}\"", e.getMessage());
            }
            for (Carried c : carried.values()) {
                if (c.socket != null && !c.socket.isClosed()) {
                    try {
                        c.socket.close();
                    } catch (SyscallException e) {
                        log.warn("event=crash_close_failed flow={} error=\"{}\"", c.flow, e.getMessage());
                    }
                }
            }
            throw new SimulatedCrash(point.name());
        }
    }

    private static final class SimulatedCrash extends RuntimeException {
        SimulatedCrash(String point) {
            super(point);
        }
    }

    /**
     * Stops serving. Connections still handed off stay so (journaled, owners frozen, flows
     * blocked): the next agent on this journal takes them back.
     */
    @Override
    public void close() throws IOException {
        dead = true;
        endpoint.close();
        worker.shutdown();
        try {
            if (!worker.awaitTermination(30, TimeUnit.SECONDS)) {
                log.warn("event=work_thread_busy_at_close");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Carried c : carried.values()) {
            if (c.socket != null && !c.socket.isClosed()) {
                c.socket.close();
            }
        }
        firewall.close();
        journal.close();
        if (!carried.isEmpty()) {
            log.warn("event=stopped_with_connections carried={} journal={}", carried.size(), journal.dir());
        }
        log.info("event=stopped node={}", config.node());
    }
}
