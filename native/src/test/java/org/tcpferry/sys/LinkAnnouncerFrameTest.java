package org.tcpferry.sys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class LinkAnnouncerFrameTest {

    @Test
    void theFrameIsQemusRarpAnnounceForTheMac() {
        byte[] frame = LinkAnnouncer.frame(LinkAnnouncer.parseMac("52:54:00:AB:cd:02"));
        String hex = HexFormat.of().formatHex(frame);
        assertThat(frame).hasSize(60);
        assertThat(hex).startsWith("ffffffffffff" + "525400abcd02" + "8035" // broadcast from the MAC, RARP
                + "0001" + "0800" + "06" + "04" + "0003" // Ethernet, IPv4, 6, 4, request reverse
                + "525400abcd02" + "00000000" + "525400abcd02" + "00000000");
        assertThat(hex.substring(84)).matches("0+"); // padded to the minimum frame size
    }

    @Test
    void aMalformedMacIsRefused() {
        assertThatThrownBy(() -> LinkAnnouncer.parseMac("52:54:00:ab:cd")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("52:54:00:ab:cd");
    }
}
