package org.tcpferry.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** docs/protocol.md is what other implementations read: its code tables must match the enums. */
class ProtocolDocumentationTest {
    private static final Path DOC = Path.of("..", "docs", "protocol.md");

    @Test
    void messageTypeTableMatchesTheEnum() throws Exception {
        Map<Integer, String> documented = rows(Pattern.compile("^\\| 0x([0-9a-f]{2}) \\| (\\w+) \\|", Pattern.MULTILINE), 16);
        Map<Integer, String> actual = Arrays.stream(MessageType.values())
                .collect(Collectors.toMap(t -> t.code, t -> camel(t.name()), (a, b) -> a, TreeMap::new));

        assertThat(documented).isEqualTo(actual);
    }

    @Test
    void errorCodeTableMatchesTheEnum() throws Exception {
        Map<Integer, String> documented = rows(Pattern.compile("^\\| (\\d+) \\| ([A-Z_]+) \\|", Pattern.MULTILINE), 10);
        Map<Integer, String> actual = Arrays.stream(ErrorCode.values())
                .collect(Collectors.toMap(c -> c.code, Enum::name, (a, b) -> a, TreeMap::new));

        assertThat(documented).isEqualTo(actual);
    }

    private static Map<Integer, String> rows(Pattern row, int radix) throws Exception {
        Matcher m = row.matcher(Files.readString(DOC));
        Map<Integer, String> rows = new TreeMap<>();
        while (m.find()) {
            rows.put(Integer.parseInt(m.group(1), radix), m.group(2));
        }
        return rows;
    }

    /** HANDOFF_REQUEST -> HandoffRequest, the record's name. */
    private static String camel(String constant) {
        return Arrays.stream(constant.split("_"))
                .map(w -> w.charAt(0) + w.substring(1).toLowerCase())
                .collect(Collectors.joining());
    }
}
