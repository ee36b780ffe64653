package org.tcpferry.rig;

/**
 * A rig operation failed: a command exited non-zero, a namespace could not be made or removed, or
 * cleanup left something behind. Unchecked because tests cannot do anything useful with it but fail.
 */
public class RigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public RigException(String message) {
        super(message);
    }

    public RigException(String message, Throwable cause) {
        super(message, cause);
    }
}
