package org.tcpferry.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

class HolderTokenTest {

    @Property
    void theHolderNameComesBackFromAnyToken(@ForAll @StringLength(min = 1, max = 60) String node, @ForAll byte[] body) {
        byte[] token = HolderToken.of(node.replace('\uFFFD', '?'), body);
        String name = HolderToken.holder(token);
        // Unpaired surrogates encode as '?', so compare with what UTF-8 keeps of the name.
        String kept = new String(node.replace('\uFFFD', '?').getBytes(java.nio.charset.StandardCharsets.UTF_8),
                java.nio.charset.StandardCharsets.UTF_8);
        assertThat(name).isEqualTo(kept);
        assertThat(HolderToken.body(token)).isEqualTo(body);
    }

    @Test
    void tokensWithoutAReadableNameHaveNoHolder() {
        assertThat(HolderToken.holder(null)).isNull();
        assertThat(HolderToken.holder(new byte[0])).isNull();
        assertThat(HolderToken.holder(new byte[] {0, 1, 2})).isNull();
        assertThat(HolderToken.holder(new byte[] {5, 'a', 'b'})).as("name longer than the token").isNull();
        assertThat(HolderToken.holder(new byte[] {2, (byte) 0xc3, (byte) 0x28})).as("invalid UTF-8").isNull();
        assertThat(HolderToken.body(new byte[] {0})).isNull();
    }

    @Test
    void nodeNamesMustFitOneLengthByte() {
        assertThatThrownBy(() -> HolderToken.of("", new byte[1])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> HolderToken.of("x".repeat(256), new byte[1]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1..255");
    }

    @Test
    void messagesShowTheHolderButNotTheSecretBytes() {
        FlowKey flow = new FlowKey(new InetSocketAddress("10.0.0.2", 5000), new InetSocketAddress("10.0.0.1", 40000));
        byte[] token = HolderToken.of("hv1", new byte[] {0x42, 0x43});
        assertThat(new ReleaseRequest(flow, token).toString()).contains("<token 6B of hv1>").doesNotContain("BC");
    }
}
