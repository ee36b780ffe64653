package org.tcpferry.host.handoff;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tcpferry.host.auth.TokenAuthority;
import org.tcpferry.host.config.HostConfig;
import org.tcpferry.host.hold.DomainHolds;
import org.tcpferry.host.hold.HeldConnection;
import org.tcpferry.host.hold.HoldLifecycle;
import org.tcpferry.host.hold.HoldState;
import org.tcpferry.host.hold.Spool;
import org.tcpferry.host.metrics.HostMetrics;
import org.tcpferry.host.steer.FlowSteering;
import org.tcpferry.protocol.Ack;
import org.tcpferry.protocol.ErrorCode;
import org.tcpferry.protocol.ErrorReply;
import org.tcpferry.protocol.FlowKey;
import org.tcpferry.protocol.HandoffAccepted;
import org.tcpferry.protocol.HandoffRequest;
import org.tcpferry.protocol.Message;
import org.tcpferry.protocol.ReleaseAbort;
import org.tcpferry.protocol.ReleaseConfirm;
import org.tcpferry.protocol.ReleaseGranted;
import org.tcpferry.protocol.ReleaseRequest;
import org.tcpferry.repair.ConnectionState;

/**
 * Answers the guest agent's handoff and release messages: checks ownership, quota and tokens,
 * then drives {@link HoldLifecycle}. Every method returns the reply to send; a refusal is an
 * {@link ErrorReply} and changes nothing (a refused release leaves the copy holding).
 *
 * <p>A {@code requester} is any object naming the connection a request came on; when that
 * connection goes away, {@link #requesterGone} aborts the releases it left unconfirmed.
 */
public final class HandoffService {
    private static final Logger log = LoggerFactory.getLogger(HandoffService.class);

    private final Map<String, DomainHolds> domains;
    private final TokenAuthority tokens;
    private final HostConfig config;
    private final HostMetrics metrics;
    private final HandoffLimiter limiter;

    public HandoffService(HostConfig config, Map<String, DomainHolds> domains, TokenAuthority tokens, HostMetrics metrics) {
        this.config = config;
        this.domains = domains; // the host manager's live map: domains discovered later are served too
        this.tokens = tokens;
        this.metrics = metrics;
        this.limiter = new HandoffLimiter(config.quotas());
    }

    /** (1) owner check, (2) quota, (3) restore the copy, (4) steer, (5) HandoffAccepted with a token. */
    public CompletableFuture<Message> handoff(HandoffRequest request) {
        long start = System.nanoTime();
        ConnectionState state = request.state();
        FlowKey flow = FlowKey.of(state);
        DomainHolds domain = domains.get(request.domain());
        if (domain == null) {
            return refuse(ErrorCode.UNKNOWN_DOMAIN, "no domain " + request.domain() + " on " + config.node(), flow);
        }
        if (!domain.addresses().contains(state.local().getAddress())) {
            return refuse(ErrorCode.NOT_OWNER, "domain " + domain.name() + " does not own "
                    + FlowSteering.plain(state.local().getAddress()) + " (owns " + domain.addresses() + ")", flow);
        }
        if (!state.state().carriable()) {
            return refuse(ErrorCode.REFUSED, "state " + state.state() + " cannot be held", flow);
        }
        String limited = limiter.admit(domain.name());
        if (limited != null) {
            return refuse(ErrorCode.RATE_LIMITED, "domain " + domain.name() + ": " + limited, flow);
        }
        return admitted(domain, state, flow, start).whenComplete((reply, error) -> limiter.done(domain.name()));
    }

    /** A handoff the {@link HandoffLimiter} admitted: quota, then restore, steer, token. */
    private CompletableFuture<Message> admitted(DomainHolds domain, ConnectionState state, FlowKey flow, long start) {
        if (domain.quota().room(0) == 0) {
            return refuse(ErrorCode.QUOTA_FULL, "domain " + domain.name() + " has spooled its quota of "
                    + config.quotas().domainSpoolBytes() + " bytes", flow);
        }
        byte[] token = tokens.issue(domain.config().uuid(), flow.local(), flow.remote());
        Spool spool = new Spool(config.quotas().memoryPerConnectionBytes(), Path.of(config.quotas().spoolDir()),
                spoolName(domain.name(), flow));
        HeldConnection held = new HeldConnection(domain.name(), state, token, domain.quota(), spool,
                config.steering().mark(), config.steering().copyMark());
        if (domain.putIfAbsent(held) != null) {
            return refuse(ErrorCode.BUSY, "flow is already held", flow);
        }
        return HoldLifecycle.hold(domain, held).handle((v, error) -> {
            if (error != null) {
                return internal("cannot hold " + flow + ": " + HoldLifecycle.cause(error).getMessage(), flow);
            }
            metrics.handoff(System.nanoTime() - start);
            return new HandoffAccepted(flow, token);
        });
    }

    /**
     * Checks the token, then unsteers, dumps and closes the copy and grants the final state. A
     * flow already RELEASING is granted the same final state again (see {@link HoldLifecycle#regrant}).
     */
    public CompletableFuture<Message> release(ReleaseRequest request, Object requester) {
        long start = System.nanoTime();
        Found found = find(request.flow(), request.token());
        if (found.refusal != null) {
            return CompletableFuture.completedFuture(found.refusal);
        }
        HeldConnection held = found.held;
        CompletableFuture<ConnectionState> release;
        if (held.state() == HoldState.RELEASING) {
            log.warn("event=release_regranted domain={} flow={} why=\"released before and not confirmed: the earlier "
                    + "requester went silent or lost the grant\"", found.domain.name(), request.flow());
            release = HoldLifecycle.regrant(held, requester);
        } else if (held.state() == HoldState.HOLDING) {
            release = HoldLifecycle.release(found.domain, held, requester);
        } else {
            return refuse(ErrorCode.BUSY, "flow is " + held.state() + ", not HOLDING", request.flow());
        }
        return release.handle((finalState, error) -> {
            if (error != null) {
                return internal("release of " + request.flow() + " failed, copy still holding: "
                        + HoldLifecycle.cause(error).getMessage(), request.flow());
            }
            metrics.release(System.nanoTime() - start);
            return new ReleaseGranted(finalState, finalState == null);
        });
    }

    /** The guest carries the flow again: forget the copy and its spool. */
    public CompletableFuture<Message> confirm(ReleaseConfirm request) {
        Found found = find(request.flow(), request.token());
        if (found.refusal != null) {
            return CompletableFuture.completedFuture(found.refusal);
        }
        if (found.held.state() != HoldState.RELEASING) {
            return refuse(ErrorCode.UNEXPECTED, "flow is " + found.held.state() + ", not RELEASING", request.flow());
        }
        return HoldLifecycle.confirm(found.domain, found.held).handle((v, error) -> error == null
                ? new Ack() : internal("confirm failed: " + HoldLifecycle.cause(error).getMessage(), request.flow()));
    }

    /** The guest could not take the flow back: hold it again from the final state. */
    public CompletableFuture<Message> abort(ReleaseAbort request) {
        Found found = find(request.flow(), request.token());
        if (found.refusal != null) {
            return CompletableFuture.completedFuture(found.refusal);
        }
        if (found.held.state() != HoldState.RELEASING) {
            return refuse(ErrorCode.UNEXPECTED, "flow is " + found.held.state() + ", not RELEASING", request.flow());
        }
        return HoldLifecycle.abort(found.domain, found.held, "ReleaseAbort").handle((v, error) -> error == null
                ? new Ack() : internal("re-hold failed: " + HoldLifecycle.cause(error).getMessage(), request.flow()));
    }

    /**
     * The token of {@code flow} when {@code domainName} holds it here: the domain's own agent lost
     * the answer to its HandoffRequest (killed before journaling it) and asks again. UNKNOWN_FLOW
     * when it does not: the agent then restores its socket from its own dump.
     */
    public Message query(String domainName, FlowKey flow) {
        DomainHolds domain = domains.get(domainName);
        HeldConnection held = domain == null ? null : domain.get(flow);
        if (held == null) {
            metrics.refused(ErrorCode.UNKNOWN_FLOW.name());
            log.info("event=handoff_query domain={} flow={} held=false", domainName, flow);
            return new ErrorReply(ErrorCode.UNKNOWN_FLOW, "domain " + domainName + " has no held flow " + flow + " on "
                    + config.node());
        }
        log.info("event=handoff_query domain={} flow={} held=true state={}", domainName, flow, held.state());
        return new HandoffAccepted(flow, held.token());
    }

    /** The connection {@code requester} names is gone: every release it left unconfirmed is aborted. */
    public CompletableFuture<Void> requesterGone(Object requester) {
        List<CompletableFuture<Void>> aborts = new ArrayList<>();
        for (DomainHolds domain : domains.values()) {
            for (HeldConnection held : domain.connections()) {
                if (held.state() == HoldState.RELEASING && held.releaser() == requester) {
                    aborts.add(HoldLifecycle.abort(domain, held, "requester went away before confirming"));
                }
            }
        }
        return CompletableFuture.allOf(aborts.toArray(CompletableFuture[]::new));
    }

    public Collection<DomainHolds> domains() {
        return domains.values();
    }

    private Found find(FlowKey flow, byte[] token) {
        for (DomainHolds domain : domains.values()) {
            HeldConnection held = domain.get(flow);
            if (held != null) {
                if (!tokens.verify(token, domain.config().uuid(), flow.local(), flow.remote())) {
                    metrics.refused(ErrorCode.BAD_TOKEN.name());
                    log.warn("event=refused code=BAD_TOKEN domain={} flow={} state={}", domain.name(), flow, held.state());
                    return new Found(null, null, new ErrorReply(ErrorCode.BAD_TOKEN, "token does not match " + flow));
                }
                return new Found(domain, held, null);
            }
        }
        metrics.refused(ErrorCode.UNKNOWN_FLOW.name());
        return new Found(null, null, new ErrorReply(ErrorCode.UNKNOWN_FLOW, "no held flow " + flow));
    }

    private CompletableFuture<Message> refuse(ErrorCode code, String why, FlowKey flow) {
        metrics.refused(code.name());
        log.warn("event=refused code={} flow={} why=\"{}\"", code, flow, why);
        return CompletableFuture.completedFuture(new ErrorReply(code, why));
    }

    private Message internal(String why, FlowKey flow) {
        metrics.refused(ErrorCode.INTERNAL.name());
        log.error("event=failed code=INTERNAL flow={} why=\"{}\"", flow, why);
        return new ErrorReply(ErrorCode.INTERNAL, why);
    }

    private static String spoolName(String domain, FlowKey flow) {
        InetSocketAddress l = flow.local();
        InetSocketAddress r = flow.remote();
        return (domain + "-" + FlowSteering.plain(l.getAddress()) + "_" + l.getPort() + "-"
                + FlowSteering.plain(r.getAddress()) + "_" + r.getPort()).replaceAll("[^A-Za-z0-9._-]", "_");
    }

    private record Found(DomainHolds domain, HeldConnection held, ErrorReply refusal) {
    }
}
