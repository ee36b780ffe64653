package org.tcpferry.host.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tcpferry.protocol.ControlCommand;
import org.tcpferry.protocol.PortRange;
import org.tcpferry.protocol.Selection;

/** The handoff verb's selection arguments, as {@code tcpferry handoff --local-port ...} sends them. */
class ControlSelectionTest {
    @Test
    void noArgumentsSelectAll() {
        assertThat(ControlService.selection(new ControlCommand("handoff", Map.of("domain", "vm1")))).isEqualTo(Selection.all());
    }

    @Test
    void listsAndRangesAreParsed() {
        Selection s = ControlService.selection(new ControlCommand("handoff", Map.of("domain", "vm1",
                "localPorts", "443,8000-8100", "processNames", "nginx, java", "uids", "33")));
        assertThat(s.localPorts()).containsExactly(PortRange.of(443), new PortRange(8000, 8100));
        assertThat(s.processNames()).containsExactly("nginx", "java");
        assertThat(s.uids()).containsExactly(33);
        assertThat(s.remotePorts()).isEmpty();
        assertThat(s.cgroups()).isEqualTo(List.of());
    }

    @Test
    void badPortIsRefused() {
        assertThatThrownBy(() -> ControlService.selection(new ControlCommand("handoff", Map.of("localPorts", "70000"))))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
