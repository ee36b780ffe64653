package org.tcpferry.protocol;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/** CLI to daemon: run {@code verb} with named arguments (answered by Progress messages, then ControlReply). */
public record ControlCommand(String verb, Map<String, String> args) implements Message {
    public ControlCommand {
        Objects.requireNonNull(verb, "verb");
        Map<String, String> copy = new LinkedHashMap<>();
        args.forEach((k, v) -> copy.put(Objects.requireNonNull(k, "argument name"), Objects.requireNonNull(v, k)));
        // Insertion order is kept so the command reads back as it was written.
        args = Collections.unmodifiableMap(copy);
    }

    @Override
    public MessageType type() {
        return MessageType.CONTROL_COMMAND;
    }
}
