package org.tcpferry.host.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.tcpferry.protocol.ControlCommand;
import org.tcpferry.protocol.ControlReply;
import org.tcpferry.protocol.Message;

/** Runs one control verb ({@code handoff}, {@code reclaim}) on a daemon and returns its exit code and JSON. */
final class DaemonOrder {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The daemon's answer: {@code exitCode} as the CLI's exit codes, {@code json} its result document. */
    record Result(int exitCode, ObjectNode json) {
        int held() {
            return json.path("held").asInt(-1);
        }

        String error() {
            return json.path("error").asText("");
        }
    }

    private DaemonOrder() {
    }

    /** Sends {@code verb} with {@code args}; IOException when the daemon cannot be reached or refuses. */
    static Result run(Path socket, String verb, Map<String, String> args, ProgressPrinter progress) throws IOException {
        try (ControlClient client = ControlClient.connect(socket)) {
            Message reply = client.ask(new ControlCommand(verb, args), progress::progress);
            if (!(reply instanceof ControlReply result)) {
                throw new IOException("the daemon answered " + reply);
            }
            return new Result(result.exitCode(), (ObjectNode) JSON.readTree(result.json()));
        }
    }
}
