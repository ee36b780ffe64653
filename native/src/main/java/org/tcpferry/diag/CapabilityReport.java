package org.tcpferry.diag;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What {@link Capabilities#probe()} found: one {@link Check} per {@link Feature}, plus the cgroup
 * v2 mount point and the nft binary when present. Immutable.
 */
public final class CapabilityReport {
    private final Map<Feature, Check> checks;
    private final Path cgroup2Mount;
    private final Path nftBinary;

    CapabilityReport(List<Check> checks, Path cgroup2Mount, Path nftBinary) {
        Map<Feature, Check> byFeature = new EnumMap<>(Feature.class);
        for (Check check : checks) {
            byFeature.put(check.feature(), check);
        }
        if (byFeature.size() != Feature.values().length) {
            throw new IllegalArgumentException("a report needs one check per feature, got " + byFeature.keySet());
        }
        this.checks = Collections.unmodifiableMap(byFeature);
        this.cgroup2Mount = cgroup2Mount;
        this.nftBinary = nftBinary;
    }

    /** Every check, in {@link Feature} order. */
    public List<Check> checks() {
        return List.copyOf(checks.values());
    }

    public Check check(Feature feature) {
        return checks.get(feature);
    }

    public boolean has(Feature feature) {
        return checks.get(feature).available();
    }

    public boolean root() {
        return has(Feature.ROOT);
    }

    public boolean netAdmin() {
        return has(Feature.CAP_NET_ADMIN);
    }

    public boolean tcpRepairUsable() {
        return has(Feature.TCP_REPAIR);
    }

    public boolean sockDiagUsable() {
        return has(Feature.SOCK_DIAG);
    }

    public boolean pidfdAvailable() {
        return has(Feature.PIDFD);
    }

    /** Where cgroup v2 is mounted ({@code /sys/fs/cgroup}, or {@code /sys/fs/cgroup/unified} on a hybrid setup). */
    public Optional<Path> cgroup2Mount() {
        return Optional.ofNullable(cgroup2Mount);
    }

    public Optional<Path> nftBinary() {
        return Optional.ofNullable(nftBinary);
    }

    /** Every non-informational feature that is not available, each as "FEATURE: why needed (what was found)". */
    public List<String> missing() {
        return missing(EnumSet.allOf(Feature.class));
    }

    /** Like {@link #missing()}, restricted to the features a particular daemon needs. */
    /**
     * Refuses to go on when any of {@code needed} is missing, so that a daemon fails at start with
     * the reason instead of later, on a guest's connection.
     *
     * @param who the daemon's name for the message, e.g. "tcpferry hostd"
     */
    public void require(String who, Set<Feature> needed) throws MissingCapabilityException {
        List<String> absent = missing(needed);
        if (!absent.isEmpty()) {
            throw new MissingCapabilityException(who, absent);
        }
    }

    public List<String> missing(Set<Feature> needed) {
        List<String> reasons = new ArrayList<>();
        for (Check check : checks.values()) {
            if (!check.available() && !check.feature().informational && needed.contains(check.feature())) {
                reasons.add(check.feature() + ": " + check.feature().purpose + " (" + check.detail() + ")");
            }
        }
        return reasons;
    }

    /** One line per feature: {@code   ok       TCP_REPAIR      set on and off on a fresh socket}. */
    @Override
    public String toString() {
        StringBuilder out = new StringBuilder("tcpferry capability probe:");
        for (Check check : checks.values()) {
            String mark = check.available() ? "ok" : check.feature().informational ? "no" : "MISSING";
            out.append(String.format("%n  %-8s %-15s %s", mark, check.feature(), check.detail()));
        }
        return out.toString();
    }
}
