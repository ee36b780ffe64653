package org.tcpferry.repair;

import java.io.IOException;

/** A socket whose TCP state tcpferry cannot carry (LISTEN, SYN_SENT, TIME_WAIT, ...). Nothing was changed. */
public final class UnsupportedStateException extends IOException {
    private final TcpState state;

    public UnsupportedStateException(String socket, TcpState state) {
        super("cannot carry " + socket + " in state " + state
                + ": only ESTABLISHED, FIN_WAIT1, FIN_WAIT2, CLOSE_WAIT and LAST_ACK connections can be carried");
        this.state = state;
    }

    public TcpState state() {
        return state;
    }
}
