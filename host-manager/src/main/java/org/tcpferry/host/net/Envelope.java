package org.tcpferry.host.net;

import org.tcpferry.protocol.Message;

/** A message with the requestId of its frame, as it travels through a Netty pipeline. */
public record Envelope(int requestId, Message message) {
}
