package org.tcpferry.host.config;

/**
 * The marks and routing table that deliver a diverted flow to the host's copy socket.
 *
 * @param mark set by the bridge rule on packets of a steered flow; {@code ip rule fwmark mark
 *     lookup table} sends them to the local stack
 * @param copyMark SO_MARK of the copy sockets. It must differ from {@code mark}: with the same mark
 *     the copy's own packets would match the ip rule and be looped back to the host
 * @param table routing table holding {@code local 0.0.0.0/0 dev lo} (and {@code ::/0})
 * @param rulePriority priority of the ip rule
 */
public record SteeringConfig(Integer mark, Integer copyMark, Integer table, Integer rulePriority) {

    public SteeringConfig {
        mark = mark == null ? 0x7466 : mark;
        copyMark = copyMark == null ? 0x7467 : copyMark;
        table = table == null ? 7466 : table;
        rulePriority = rulePriority == null ? 7466 : rulePriority;
        if (mark == 0 || mark.equals(copyMark)) {
            throw new IllegalArgumentException("steering.mark must be non-zero and differ from steering.copyMark");
        }
    }

    public static SteeringConfig defaults() {
        return new SteeringConfig(null, null, null, null);
    }
}
