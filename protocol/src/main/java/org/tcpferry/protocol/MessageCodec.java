package org.tcpferry.protocol;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Message bodies: each {@link Message} record to a version-{@value Frames#VERSION} {@link Frame}
 * and back. The payload of each type is its fields in declaration order, encoded by
 * {@link WireWriter}; the table is in {@code docs/protocol.md}.
 */
public final class MessageCodec {
    private MessageCodec() {}

    /** The frame that carries {@code message} as (or in answer to) request {@code requestId}. */
    public static Frame encode(int requestId, Message message) {
        WireWriter w = new WireWriter();
        writeBody(w, message);
        return new Frame(Frames.VERSION, message.type(), requestId, w.toByteArray());
    }

    /** The frame as it goes on the wire. */
    public static byte[] toBytes(Frame frame) {
        return Frames.toBytes(frame);
    }

    /** {@code toBytes(encode(requestId, message))}. */
    public static byte[] toBytes(int requestId, Message message) {
        return Frames.toBytes(encode(requestId, message));
    }

    /**
     * The message in {@code frame}.
     *
     * @throws ProtocolException UNSUPPORTED_VERSION for a frame of another version; MALFORMED for a
     *     payload that is truncated, has trailing bytes, or holds values the message refuses
     */
    public static Message decode(Frame frame) throws ProtocolException {
        if (frame.version() != Frames.VERSION) {
            throw new ProtocolException(ErrorCode.UNSUPPORTED_VERSION,
                    "frame has protocol version " + frame.version() + ", this side speaks version " + Frames.VERSION);
        }
        WireReader r = new WireReader(frame.payload());
        Message message;
        try {
            message = readBody(r, frame.type());
        } catch (IllegalArgumentException e) {
            // A record constructor refused what the fields hold (unknown role, inverted port range, ...).
            throw new ProtocolException(ErrorCode.MALFORMED, frame.type() + ": " + e.getMessage(), e);
        }
        r.expectEnd(frame.type().toString());
        return message;
    }

    private static void writeBody(WireWriter w, Message message) {
        switch (message.type()) {
            case HELLO -> {
                Hello m = (Hello) message;
                w.string(m.role()).string(m.nodeName()).string(m.domain());
            }
            case HELLO_REPLY -> {
                HelloReply m = (HelloReply) message;
                w.string(m.nodeName()).u32(m.protocolVersion());
            }
            case ERROR_REPLY -> {
                ErrorReply m = (ErrorReply) message;
                w.u16(m.code().code).string(m.message());
            }
            case HANDOFF_ORDER -> writeSelection(w, ((HandoffOrder) message).selection());
            case HANDOFF_REQUEST -> {
                HandoffRequest m = (HandoffRequest) message;
                w.string(m.domain());
                ConnectionStateCodec.write(w, m.state());
            }
            case HANDOFF_ACCEPTED -> {
                HandoffAccepted m = (HandoffAccepted) message;
                writeFlowToken(w, m.flow(), m.token());
            }
            case HANDOFF_COMPLETE -> w.u32(((HandoffComplete) message).count());
            case HANDOFF_QUERY -> writeFlow(w, ((HandoffQuery) message).flow());
            case RELEASE_REQUEST -> {
                ReleaseRequest m = (ReleaseRequest) message;
                writeFlowToken(w, m.flow(), m.token());
            }
            case RELEASE_GRANTED -> {
                ReleaseGranted m = (ReleaseGranted) message;
                w.bool(m.finalState() != null);
                if (m.finalState() != null) {
                    ConnectionStateCodec.write(w, m.finalState());
                }
                w.bool(m.peerReset());
            }
            case RELEASE_CONFIRM -> {
                ReleaseConfirm m = (ReleaseConfirm) message;
                writeFlowToken(w, m.flow(), m.token());
            }
            case RELEASE_ABORT -> {
                ReleaseAbort m = (ReleaseAbort) message;
                writeFlowToken(w, m.flow(), m.token());
            }
            case STATUS_REPLY -> w.string(((StatusReply) message).json());
            case CONTROL_COMMAND -> {
                ControlCommand m = (ControlCommand) message;
                w.string(m.verb()).u32(m.args().size());
                m.args().forEach((k, v) -> w.string(k).string(v));
            }
            case CONTROL_REPLY -> {
                ControlReply m = (ControlReply) message;
                w.u32(m.exitCode()).string(m.json());
            }
            case PROGRESS -> {
                Progress m = (Progress) message;
                w.string(m.phase()).u32(m.done()).u32(m.total()).i64(m.bytes());
            }
            case ACK, RECLAIM_ORDER, STATUS_REQUEST -> {
                // no fields
            }
        }
    }

    private static Message readBody(WireReader r, MessageType type) throws ProtocolException {
        return switch (type) {
            case HELLO -> new Hello(r.string("role"), r.string("nodeName"), r.string("domain"));
            case HELLO_REPLY -> new HelloReply(r.string("nodeName"), r.u32("protocolVersion"));
            case ERROR_REPLY -> readErrorReply(r);
            case ACK -> new Ack();
            case HANDOFF_ORDER -> new HandoffOrder(readSelection(r));
            case HANDOFF_REQUEST -> new HandoffRequest(r.string("domain"), ConnectionStateCodec.read(r));
            case HANDOFF_ACCEPTED -> new HandoffAccepted(readFlow(r), r.bytes("token"));
            case HANDOFF_COMPLETE -> new HandoffComplete(r.u32("count"));
            case HANDOFF_QUERY -> new HandoffQuery(readFlow(r));
            case RELEASE_REQUEST -> new ReleaseRequest(readFlow(r), r.bytes("token"));
            case RELEASE_GRANTED -> {
                var finalState = r.bool("hasFinalState") ? ConnectionStateCodec.read(r) : null;
                yield new ReleaseGranted(finalState, r.bool("peerReset"));
            }
            case RELEASE_CONFIRM -> new ReleaseConfirm(readFlow(r), r.bytes("token"));
            case RELEASE_ABORT -> new ReleaseAbort(readFlow(r), r.bytes("token"));
            case RECLAIM_ORDER -> new ReclaimOrder();
            case STATUS_REQUEST -> new StatusRequest();
            case STATUS_REPLY -> new StatusReply(r.string("json"));
            case CONTROL_COMMAND -> readControlCommand(r);
            case CONTROL_REPLY -> new ControlReply(r.u32("exitCode"), r.string("json"));
            case PROGRESS -> new Progress(r.string("phase"), r.u32("done"), r.u32("total"), r.i64("bytes"));
        };
    }

    /** A code this version does not know (a newer peer's) still reads as an error, not as a broken frame. */
    private static ErrorReply readErrorReply(WireReader r) throws ProtocolException {
        int code = r.u16("code");
        String text = r.string("message");
        ErrorCode known = ErrorCode.ofCode(code);
        return known != null ? new ErrorReply(known, text) : new ErrorReply(ErrorCode.INTERNAL, "[error code " + code + "] " + text);
    }

    private static void writeFlowToken(WireWriter w, FlowKey flow, byte[] token) {
        writeFlow(w, flow);
        w.bytes(token);
    }

    private static void writeFlow(WireWriter w, FlowKey flow) {
        w.socketAddress(flow.local()).socketAddress(flow.remote());
    }

    private static FlowKey readFlow(WireReader r) throws ProtocolException {
        var local = r.socketAddress("flow.local");
        var remote = r.socketAddress("flow.remote");
        return new FlowKey(local, remote);
    }

    private static void writeSelection(WireWriter w, Selection s) {
        writePortRanges(w, s.localPorts());
        writePortRanges(w, s.remotePorts());
        writeStrings(w, s.processNames());
        writeStrings(w, s.cgroups());
        w.u32(s.uids().size());
        s.uids().forEach(w::u32);
    }

    private static Selection readSelection(WireReader r) throws ProtocolException {
        List<PortRange> localPorts = readPortRanges(r, "localPorts");
        List<PortRange> remotePorts = readPortRanges(r, "remotePorts");
        List<String> processNames = readStrings(r, "processNames");
        List<String> cgroups = readStrings(r, "cgroups");
        int n = r.count("uids", 4);
        List<Integer> uids = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            uids.add(r.u32("uids"));
        }
        return new Selection(localPorts, remotePorts, processNames, cgroups, uids);
    }

    private static void writePortRanges(WireWriter w, List<PortRange> ranges) {
        w.u32(ranges.size());
        ranges.forEach(p -> w.u16(p.from()).u16(p.to()));
    }

    private static List<PortRange> readPortRanges(WireReader r, String field) throws ProtocolException {
        int n = r.count(field, 4);
        List<PortRange> ranges = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ranges.add(new PortRange(r.u16(field), r.u16(field)));
        }
        return ranges;
    }

    private static void writeStrings(WireWriter w, List<String> strings) {
        w.u32(strings.size());
        strings.forEach(w::string);
    }

    private static List<String> readStrings(WireReader r, String field) throws ProtocolException {
        int n = r.count(field, 4);
        List<String> strings = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            strings.add(r.string(field));
        }
        return strings;
    }

    private static ControlCommand readControlCommand(WireReader r) throws ProtocolException {
        String verb = r.string("verb");
        int n = r.count("args", 8);
        Map<String, String> args = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            String key = r.string("args.name");
            if (args.put(key, r.string("args.value")) != null) {
                throw new ProtocolException(ErrorCode.MALFORMED, "args: duplicate name '" + key + "'");
            }
        }
        return new ControlCommand(verb, args);
    }
}
