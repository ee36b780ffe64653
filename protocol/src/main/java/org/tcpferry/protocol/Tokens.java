package org.tcpferry.protocol;

/** Token handling shared by the messages that carry one. */
final class Tokens {
    private Tokens() {}

    /** Tokens are capabilities: logs show their length and holder, never their secret bytes. */
    static String describe(byte[] token) {
        String holder = HolderToken.holder(token);
        return "<token " + token.length + "B" + (holder == null ? "" : " of " + holder) + ">";
    }
}
