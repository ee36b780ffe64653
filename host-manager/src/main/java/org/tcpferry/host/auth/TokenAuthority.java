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
import org.tcpferry.protocol.HolderToken;

/**
 * Issues and checks the tokens that prove a release request comes from whoever handed the
 * connection over. A token is {@code HolderToken(node) || issueMillis[8] || HMAC-SHA256(secret,
 * node, uuid, flow, issueMillis)}: it names the host that holds the copy (so another host can relay
 * a release to it, see {@link HolderToken}), carries its issue time, and only the holder of the
 * host secret can make one.
 */
public final class TokenAuthority {
    private static final String ALGORITHM = "HmacSHA256";
    private static final int MAC_LENGTH = 32;
    /** Bytes after the holder's name: the issue time and the MAC. */
    public static final int BODY_LENGTH = 8 + MAC_LENGTH;

    private final SecretKeySpec key;
    /**
     * One keyed Mac per thread: Mac.getInstance looks the provider up and init expands the key,
     * which cost more than the MAC itself at one token per connection (issue 7's profile).
     * doFinal leaves a Mac ready for the next MAC with the same key.
     */
    private final ThreadLocal<Mac> macs = ThreadLocal.withInitial(this::newMac);
    private final String node;
    private final Clock clock;

    /** @param node this host's name, written into every token as its holder */
    public TokenAuthority(byte[] secret, String node, Clock clock) {
        this.key = new SecretKeySpec(secret.clone(), ALGORITHM);
        this.node = node;
        this.clock = clock;
        HolderToken.of(node, new byte[0]); // refuses a name a token cannot carry, at start
    }

    public TokenAuthority(byte[] secret, String node) {
        this(secret, node, Clock.systemUTC());
    }

    /** A new token for the flow {@code local -> remote} of domain {@code domainUuid}. */
    public byte[] issue(String domainUuid, InetSocketAddress local, InetSocketAddress remote) {
        long issued = clock.millis();
        byte[] mac = mac(domainUuid, local, remote, issued);
        return HolderToken.of(node, ByteBuffer.allocate(BODY_LENGTH).putLong(issued).put(mac).array());
    }

    /** True if {@code token} was issued by this authority for exactly this domain and flow. */
    public boolean verify(byte[] token, String domainUuid, InetSocketAddress local, InetSocketAddress remote) {
        byte[] body = node.equals(HolderToken.holder(token)) ? HolderToken.body(token) : null;
        if (body == null || body.length != BODY_LENGTH) {
            return false;
        }
        ByteBuffer buffer = ByteBuffer.wrap(body);
        long issued = buffer.getLong();
        byte[] presented = new byte[MAC_LENGTH];
        buffer.get(presented);
        // MessageDigest.isEqual compares in constant time, so the MAC cannot be guessed byte by byte.
        return MessageDigest.isEqual(presented, mac(domainUuid, local, remote, issued));
    }

    /** The issue time carried by a token this authority's kind issued, in epoch milliseconds. */
    public static long issuedAt(byte[] token) {
        return ByteBuffer.wrap(HolderToken.body(token)).getLong();
    }

    private byte[] mac(String domainUuid, InetSocketAddress local, InetSocketAddress remote, long issued) {
        Mac mac = macs.get();
        // Length-prefixed fields, so that no two different inputs encode to the same bytes.
        field(mac, node.getBytes(StandardCharsets.UTF_8));
        field(mac, domainUuid.getBytes(StandardCharsets.UTF_8));
        field(mac, local.getAddress().getAddress());
        mac.update(ByteBuffer.allocate(4).putInt(local.getPort()).array());
        field(mac, remote.getAddress().getAddress());
        mac.update(ByteBuffer.allocate(4).putInt(remote.getPort()).array());
        mac.update(ByteBuffer.allocate(8).putLong(issued).array());
        return mac.doFinal();
    }

    private Mac newMac() {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            return mac;
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("the JDK lacks " + ALGORITHM, e);
        }
    }

    private static void field(Mac mac, byte[] value) {
        mac.update(ByteBuffer.allocate(4).putInt(value.length).array());
        mac.update(value);
    }
}
