package org.tcpferry.host.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenAuthorityTest {
    private static final InetSocketAddress GUEST = new InetSocketAddress("10.0.0.2", 5000);
    private static final InetSocketAddress PEER = new InetSocketAddress("10.0.0.1", 40000);
    private static final String UUID = "0b7a3c8e-4f0e-4c4e-9b1a-2d7f00000001";

    @TempDir
    Path dir;

    @Test
    void tokenVerifiesForItsFlowOnlyAndCarriesItsIssueTime() {
        Clock clock = Clock.fixed(Instant.ofEpochMilli(1_700_000_000_123L), ZoneOffset.UTC);
        TokenAuthority authority = new TokenAuthority(new byte[32], "hv1", clock);
        byte[] token = authority.issue(UUID, GUEST, PEER);
        assertThat(token).hasSize(1 + 3 + TokenAuthority.BODY_LENGTH);
        assertThat(org.tcpferry.protocol.HolderToken.holder(token)).isEqualTo("hv1");
        assertThat(TokenAuthority.issuedAt(token)).isEqualTo(1_700_000_000_123L);
        assertThat(authority.verify(token, UUID, GUEST, PEER)).isTrue();
        assertThat(authority.verify(token, UUID.replace('1', '2'), GUEST, PEER)).isFalse();
        assertThat(authority.verify(token, UUID, new InetSocketAddress("10.0.0.2", 5001), PEER)).isFalse();
        assertThat(authority.verify(token, UUID, GUEST, new InetSocketAddress("10.0.0.3", 40000))).isFalse();
        assertThat(authority.verify(null, UUID, GUEST, PEER)).isFalse();
        assertThat(authority.verify(new byte[3], UUID, GUEST, PEER)).isFalse();
    }

    @Test
    void anyChangedBitIsRefused() {
        TokenAuthority authority = new TokenAuthority(new byte[32], "hv1");
        byte[] token = authority.issue(UUID, GUEST, PEER);
        for (int i = 0; i < token.length * 8; i++) {
            byte[] forged = token.clone();
            forged[i / 8] ^= (byte) (1 << (i % 8));
            assertThat(authority.verify(forged, UUID, GUEST, PEER)).as("bit %d flipped", i).isFalse();
        }
    }

    @Test
    void aTokenOfAnotherHostIsNotVerifiedHereEvenWithTheSameSecret() {
        byte[] token = new TokenAuthority(new byte[32], "hv2").issue(UUID, GUEST, PEER);
        assertThat(new TokenAuthority(new byte[32], "hv1").verify(token, UUID, GUEST, PEER)).isFalse();
        byte[] renamed = org.tcpferry.protocol.HolderToken.of("hv1", org.tcpferry.protocol.HolderToken.body(token));
        assertThat(new TokenAuthority(new byte[32], "hv1").verify(renamed, UUID, GUEST, PEER))
                .as("the name is inside the MAC: relabelling a token does not make it valid elsewhere").isFalse();
    }

    @Test
    void anotherSecretMakesOtherTokens() {
        byte[] other = new byte[32];
        other[0] = 1;
        byte[] token = new TokenAuthority(new byte[32], "hv1").issue(UUID, GUEST, PEER);
        assertThat(new TokenAuthority(other, "hv1").verify(token, UUID, GUEST, PEER)).isFalse();
    }

    @Test
    void secretFileIsCreated0600AndReadBack() throws IOException {
        Path file = dir.resolve("sub").resolve("host.secret");
        byte[] first = HostSecret.loadOrCreate(file);
        assertThat(first).hasSize(32);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(HostSecret.loadOrCreate(file)).isEqualTo(first);
    }
}
