package org.tcpferry.repair;

/** The kernel's TCP states, numbered as in {@code include/net/tcp_states.h}. */
public enum TcpState {
    ESTABLISHED(1),
    SYN_SENT(2),
    SYN_RECV(3),
    FIN_WAIT1(4),
    FIN_WAIT2(5),
    TIME_WAIT(6),
    CLOSE(7),
    CLOSE_WAIT(8),
    LAST_ACK(9),
    LISTEN(10),
    CLOSING(11),
    NEW_SYN_RECV(12);

    public final int kernelValue;

    TcpState(int kernelValue) {
        this.kernelValue = kernelValue;
    }

    public static TcpState ofKernel(int value) {
        for (TcpState s : values()) {
            if (s.kernelValue == value) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown kernel TCP state " + value);
    }

    /**
     * Whether tcpferry can carry a connection in this state: established, or half-closed in one
     * direction or both, with every FIN either acknowledged by us or still to be sent by us.
     * TIME_WAIT and CLOSING have nothing left to carry; handshakes and listeners are not flows.
     */
    public boolean carriable() {
        switch (this) {
            case ESTABLISHED:
            case FIN_WAIT1:
            case FIN_WAIT2:
            case CLOSE_WAIT:
            case LAST_ACK:
                return true;
            default:
                return false;
        }
    }

    /** The peer's FIN has arrived: rcv_nxt counts one sequence number for it. */
    public boolean finReceived() {
        return this == CLOSE_WAIT || this == LAST_ACK || this == CLOSING || this == TIME_WAIT;
    }

    /** Our FIN is queued or sent: write_seq counts one sequence number for it. */
    public boolean finSent() {
        return this == FIN_WAIT1 || this == FIN_WAIT2 || this == LAST_ACK || this == CLOSING || this == TIME_WAIT;
    }
}
