package org.tcpferry.protocol;

/** Host to agent: the guest runs again; release every flow the host holds for it. */
public record ReclaimOrder() implements Message {
    @Override
    public MessageType type() {
        return MessageType.RECLAIM_ORDER;
    }
}
