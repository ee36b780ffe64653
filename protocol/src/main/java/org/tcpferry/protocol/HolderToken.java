package org.tcpferry.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The one public part of a token: the name of the host that issued it, which is the host holding
 * the copy. Layout: {@code u8 n, n bytes UTF-8 node name, issuer's bytes}. Any host manager can
 * read it to route a release to the holder over the peer endpoint (a guest that moved reaches only
 * its new host); only the holder can check the rest. The name is not secret: tokens stay
 * capabilities because of the issuer's MAC, not because the name is hidden.
 */
public final class HolderToken {
    /** Longest node name a token can carry (one length byte). */
    public static final int MAX_NODE_BYTES = 255;

    private HolderToken() {
    }

    /** {@code body} prefixed with {@code node}, as the issuing host makes it. */
    public static byte[] of(String node, byte[] body) {
        byte[] name = node.getBytes(StandardCharsets.UTF_8);
        if (name.length == 0 || name.length > MAX_NODE_BYTES) {
            throw new IllegalArgumentException("a node name in a token must be 1.." + MAX_NODE_BYTES
                    + " bytes of UTF-8: \"" + node + "\"");
        }
        return ByteBuffer.allocate(1 + name.length + body.length).put((byte) name.length).put(name).put(body).array();
    }

    /** The issuing host's name, or null when {@code token} does not start with one. */
    public static String holder(byte[] token) {
        if (token == null || token.length < 2) {
            return null;
        }
        int n = token[0] & 0xff;
        if (n == 0 || token.length < 1 + n) {
            return null;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(token, 1, n)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** What follows the node name (the issuer's part), or null when there is no node name. */
    public static byte[] body(byte[] token) {
        if (holder(token) == null) {
            return null;
        }
        return Arrays.copyOfRange(token, 1 + (token[0] & 0xff), token.length);
    }
}
