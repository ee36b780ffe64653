package org.tcpferry.host.keeper;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The messages between a host manager and its {@link FdKeeper}, one per SOCK_SEQPACKET message:
 * a verb, then for KEEP and ENTRY the key (the flow) and the record, each on its own line. The
 * record is the host manager's business; the keeper stores its bytes.
 *
 * <pre>
 * KEEP\nkey\nrecord  + the copy's descriptor   (no answer: see KeeperClient#keep)
 * DROP\nkey                                    -> OK
 * LIST                                         -> ENTRY\nkey\nrecord + descriptor, ..., END
 * </pre>
 */
record KeeperWire(String verb, String key, byte[] record) {
    static final String KEEP = "KEEP";
    static final String DROP = "DROP";
    static final String LIST = "LIST";
    static final String ENTRY = "ENTRY";
    static final String END = "END";
    static final String OK = "OK";
    /** Records are small JSON objects; anything near this is not one. */
    static final int MAX_MESSAGE = 16 * 1024;

    static KeeperWire of(String verb) {
        return new KeeperWire(verb, "", new byte[0]);
    }

    byte[] encode() {
        byte[] head = (verb + (key.isEmpty() && record.length == 0 ? "" : "\n" + key + "\n"))
                .getBytes(StandardCharsets.UTF_8);
        byte[] all = Arrays.copyOf(head, head.length + record.length);
        System.arraycopy(record, 0, all, head.length, record.length);
        return all;
    }

    static KeeperWire decode(byte[] message) {
        String text = new String(message, StandardCharsets.UTF_8);
        int first = text.indexOf('\n');
        if (first < 0) {
            return of(text);
        }
        int second = text.indexOf('\n', first + 1);
        if (second < 0) {
            throw new IllegalArgumentException("keeper message without a record: " + text);
        }
        int recordStart = text.substring(0, second + 1).getBytes(StandardCharsets.UTF_8).length;
        return new KeeperWire(text.substring(0, first), text.substring(first + 1, second),
                Arrays.copyOfRange(message, recordStart, message.length));
    }
}
