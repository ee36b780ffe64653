package org.tcpferry.agent.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tcpferry.protocol.FlowKey;

/** A freeze unit is free exactly when the last unsettled connection that needs it settles. */
class FreezeRefsTest {
    private static final FreezeUnit APP = FreezeUnit.process(100, 1L);
    private static final FreezeUnit WEB = FreezeUnit.cgroup("/web.slice");

    @Test
    void aUnitIsFreeWhenItsLastConnectionSettles() throws Exception {
        Carried a = carried(40001, List.of(APP));
        Carried b = carried(40002, List.of(APP, WEB));
        Carried done = carried(40003, List.of(WEB));
        done.phase = Phase.CONFORMED; // already settled: not counted
        FreezeRefs refs = new FreezeRefs(List.of(a, b, done));

        assertThat(refs.settled(List.of(a))).isEmpty();
        assertThat(refs.settled(List.of(b))).containsExactlyInAnyOrder(APP, WEB);
    }

    private static Carried carried(int port, List<FreezeUnit> units) throws Exception {
        FlowKey flow = new FlowKey(new InetSocketAddress(InetAddress.getByName("10.0.0.2"), port),
                new InetSocketAddress(InetAddress.getByName("10.0.0.1"), 443));
        Carried c = new Carried(flow, 100, 7, 99, units);
        c.phase = Phase.HANDED_OFF;
        return c;
    }
}
