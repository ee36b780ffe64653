package org.tcpferry.nft;

import java.io.IOException;

/**
 * nftables refused a script: nothing of it was applied (a script is one transaction). The message
 * names what the script was for (the operation and its flows), nft's own error, and the script.
 */
public final class NftException extends IOException {
    private final String operation;
    private final String nftError;

    NftException(String operation, String nftError, String script) {
        super("nft failed to " + operation + ": " + nftError.strip() + "\nscript:\n" + abbreviate(script));
        this.operation = operation;
        this.nftError = nftError;
    }

    /** What the script was for, e.g. {@code steer 2 flows on br0 (10.0.0.2:5000->10.0.0.1:80, ...)}. */
    public String operation() {
        return operation;
    }

    /** nft's error messages, as it prints them. */
    public String nftError() {
        return nftError;
    }

    private static String abbreviate(String text) {
        return text.length() <= 2000 ? text : text.substring(0, 2000) + "\n... (" + text.length() + " chars)";
    }
}
