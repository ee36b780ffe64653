package org.tcpferry.host.net;

/** Who is on the other end of a channel; decides which messages it may send. */
enum Role {
    /** A guest agent, on its domain's channel: handoffs and releases for that domain only. */
    AGENT,
    /** The tcpferry CLI on the control socket: status and control commands. */
    CONTROL,
    /** Another host manager, authenticated by mutual TLS: status, handoffs and releases. */
    PEER_HOST
}
