package org.tcpferry.protocol;

/** Token handling shared by the messages that carry one. */
final class Tokens {
    private Tokens() {}

    /** Tokens are capabilities: logs show their length, never their bytes. */
    static String describe(byte[] token) {
        return "<token " + token.length + "B>";
    }
}
