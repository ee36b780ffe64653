package org.tcpferry.host.auth;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Issues and checks the tokens that prove a release request comes from whoever handed the
 * connection over. A token is {@code issueMillis[8] || HMAC-SHA256(secret, uuid, flow, issueMillis)}: it carries its issue time, and only the holder of the host secret can make one.
 */
public final class TokenAuthority {
    private static final String ALGORITHM = "HmacSHA256";
    private static final int MAC_LENGTH = 32;
    /** Bytes in a token: the issue time and the MAC. */
    public static final int TOKEN_LENGTH = 8 + MAC_LENGTH;

    private final SecretKeySpec key;
    private final Clock clock;

    public TokenAuthority(byte[] secret, Clock clock) {
        this.key = new SecretKeySpec(secret.clone(), ALGORITHM);
        this.clock = clock;
    }

    public TokenAuthority(byte[] secret) {
        this(secret, Clock.systemUTC());
    }

    /** A new token for the flow {@code local -> remote} of domain {@code domainUuid}. */
    public byte[] issue(String domainUuid, InetSocketAddress local, InetSocketAddress remote) {
        long issued = clock.millis();
        byte[] mac = mac(domainUuid, local, remote, issued);
        return ByteBuffer.allocate(TOKEN_LENGTH).putLong(issued).put(mac).array();
    }

    /** True if {@code token} was issued by this authority for exactly this domain and flow. */
    public boolean verify(byte[] token, String domainUuid, InetSocketAddress local, InetSocketAddress remote) {
        if (token == null || token.length != TOKEN_LENGTH) {
            return false;
        }
        ByteBuffer buffer = ByteBuffer.wrap(token);
        long issued = buffer.getLong();
        byte[] presented = new byte[MAC_LENGTH];
        buffer.get(presented);
        // MessageDigest.isEqual compares in constant time, so the MAC cannot be guessed byte by byte.
        return MessageDigest.isEqual(presented, mac(domainUuid, local, remote, issued));
    }

    /** The issue time carried by a well-formed token, in epoch milliseconds. */
    public static long issuedAt(byte[] token) {
        return ByteBuffer.wrap(token).getLong();
    }

    private byte[] mac(String domainUuid, InetSocketAddress local, InetSocketAddress remote, long issued) {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            // Length-prefixed fields, so that no two different inputs encode to the same bytes.
            field(mac, domainUuid.getBytes(StandardCharsets.UTF_8));
            field(mac, local.getAddress().getAddress());
            mac.update(ByteBuffer.allocate(4).putInt(local.getPort()).array());
            field(mac, remote.getAddress().getAddress());
            mac.update(ByteBuffer.allocate(4).putInt(remote.getPort()).array());
            mac.update(ByteBuffer.allocate(8).putLong(issued).array());
            return mac.doFinal();
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("the JDK lacks " + ALGORITHM, e);
        }
    }

    private static void field(Mac mac, byte[] value) {
        mac.update(ByteBuffer.allocate(4).putInt(value.length).array());
        mac.update(value);
    }
}
