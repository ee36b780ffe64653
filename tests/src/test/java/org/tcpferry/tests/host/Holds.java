package org.tcpferry.tests.host;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.tcpferry.protocol.Ack;
import org.tcpferry.protocol.FlowKey;
import org.tcpferry.protocol.HandoffAccepted;
import org.tcpferry.protocol.HandoffRequest;
import org.tcpferry.protocol.Message;
import org.tcpferry.protocol.ReleaseConfirm;
import org.tcpferry.protocol.ReleaseGranted;
import org.tcpferry.protocol.ReleaseRequest;
import org.tcpferry.repair.ConnectionState;

/** The agent's side of the handoff conversation, spoken to the in-process HandoffService. */
final class Holds {
    private Holds() {
    }

    static HandoffAccepted handoff(HostTestBed bed, ConnectionState state) throws Exception {
        Message reply = bed.host().handoffs().handoff(new HandoffRequest(HostTestBed.DOMAIN, state)).get(30, TimeUnit.SECONDS);
        assertThat(reply).as("reply to HandoffRequest").isInstanceOf(HandoffAccepted.class);
        return (HandoffAccepted) reply;
    }

    static ReleaseGranted release(HostTestBed bed, HandoffAccepted accepted, Object requester) throws Exception {
        Message reply = bed.host().handoffs().release(new ReleaseRequest(accepted.flow(), accepted.token()), requester)
                .get(30, TimeUnit.SECONDS);
        assertThat(reply).as("reply to ReleaseRequest").isInstanceOf(ReleaseGranted.class);
        return (ReleaseGranted) reply;
    }

    static void confirm(HostTestBed bed, HandoffAccepted accepted) throws Exception {
        Message reply = bed.host().handoffs().confirm(new ReleaseConfirm(accepted.flow(), accepted.token()))
                .get(30, TimeUnit.SECONDS);
        assertThat(reply).as("reply to ReleaseConfirm").isInstanceOf(Ack.class);
    }

    /** The status entries of the held connections. */
    static List<JsonNode> held(HostTestBed bed) {
        List<JsonNode> out = new ArrayList<>();
        bed.host().status().path("domains").get(0).path("connections").forEach(out::add);
        return out;
    }

    static JsonNode held(HostTestBed bed, FlowKey flow) {
        return held(bed).stream().filter(c -> c.path("flow").asText().equals(flow.toString())).findFirst()
                .orElseThrow(() -> new AssertionError("status shows no " + flow + ": " + bed.host().status()));
    }

    /** Waits up to {@code millis} for the flow's status entry to satisfy {@code condition}. */
    static JsonNode awaitStatus(HostTestBed bed, FlowKey flow, Predicate<JsonNode> condition, long millis)
            throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        JsonNode entry = held(bed, flow);
        while (!condition.test(entry) && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
            entry = held(bed, flow);
        }
        assertThat(condition).as("status of " + flow + " never matched: " + entry).accepts(entry);
        return entry;
    }
}
