package org.tcpferry.host.keeper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tcpferry.host.config.DomainConfig;
import org.tcpferry.host.config.HostConfig;
import org.tcpferry.host.hold.Adoption;
import org.tcpferry.host.hold.DomainHolds;
import org.tcpferry.host.hold.HeldConnection;
import org.tcpferry.host.hold.HoldLifecycle;
import org.tcpferry.protocol.FlowKey;
import org.tcpferry.repair.TcpRepair;
import org.tcpferry.sys.NativeSocket;

/**
 * What the keeper handed back to a starting host manager, sorted: which flows are steered right
 * now (they must stay so while the namespaces' steering is rebuilt), and then the adoption of
 * each copy into its domain.
 */
public final class KeptCopies {
    private static final Logger log = LoggerFactory.getLogger(KeptCopies.class);
    /** How long a start waits for every copy to be held again. */
    private static final long ADOPTION_SECONDS = 60;

    /** Nothing kept. (Not Map.of(): a null key, the daemon's own namespace, must be a miss, not an exception.) */
    public static final KeptCopies NONE = new KeptCopies(List.of(), java.util.Collections.emptyMap());

    private final List<Copy> copies;
    private final Map<Path, Map<String, List<FlowKey>>> steered;

    private record Copy(KeeperClient.Kept kept, FlowKey flow, DomainConfig domain, boolean steered) {
    }

    private KeptCopies(List<Copy> copies, Map<Path, Map<String, List<FlowKey>>> steered) {
        this.copies = copies;
        this.steered = steered;
    }

    /**
     * Reads each copy's flow and whether it is steered; copies of domains this host no longer has are
     * closed silently, here and in {@code keeper} (which would otherwise keep the socket open).
     */
    public static KeptCopies sort(HostConfig config, List<KeeperClient.Kept> kept, KeeperClient keeper)
            throws IOException {
        List<Copy> copies = new ArrayList<>();
        Map<Path, Map<String, List<FlowKey>>> steered = new HashMap<>();
        for (KeeperClient.Kept k : kept) {
            FlowKey flow = Adoption.flowOf(k.fd());
            DomainConfig domain = config.domain(k.record().domain());
            if (domain == null) {
                log.error("event=copy_orphaned domain={} flow={} why=\"domain no longer configured; closed silently\"",
                        k.record().domain(), flow);
                TcpRepair.closeSilently(NativeSocket.adopt(k.fd(), flow.toString()));
                keeper.drop(flow);
                continue;
            }
            boolean isSteered = k.record().accepted() && !Adoption.released(k.fd());
            copies.add(new Copy(k, flow, domain, isSteered));
            if (isSteered) {
                steered.computeIfAbsent(domain.netnsPath(), n -> new HashMap<>())
                        .computeIfAbsent(domain.bridge(), b -> new ArrayList<>()).add(flow);
            }
        }
        log.info("event=keeper_handed_back copies={} steered={}", copies.size(),
                copies.stream().filter(Copy::steered).count());
        return new KeptCopies(copies, steered);
    }

    /** Bridge to flows steered now in {@code netns} (null: the daemon's own namespace). */
    public Map<String, List<FlowKey>> steeredIn(Path netns) {
        return steered.getOrDefault(netns, Map.of());
    }

    /**
     * Holds every accepted copy again and closes the others silently; waits until all are done,
     * then deletes spool files that no held connection uses (left by a death without a keeper).
     */
    public void adoptInto(Map<String, DomainHolds> domains, HostConfig config) throws IOException {
        List<CompletableFuture<?>> work = new ArrayList<>();
        for (Copy copy : copies) {
            DomainHolds domain = domains.get(copy.domain.name());
            if (copy.kept.record().accepted()) {
                work.add(Adoption.adopt(domain, copy.kept.record(), copy.kept.fd(), config.steering().mark(),
                        config.steering().copyMark()).whenComplete((held, error) -> {
                            if (error != null) {
                                log.error("event=adoption_failed domain={} flow={} error=\"{}\"", domain.name(), copy.flow,
                                        HoldLifecycle.cause(error).getMessage());
                            }
                        }));
            } else {
                work.add(Adoption.closeUnaccepted(domain, copy.flow, copy.kept.fd()));
            }
        }
        try {
            CompletableFuture.allOf(work.toArray(CompletableFuture[]::new)).handle((v, e) -> null)
                    .get(ADOPTION_SECONDS, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IOException("adopting " + copies.size() + " kept copies did not finish in " + ADOPTION_SECONDS + " s", e);
        }
        long held = domains.values().stream().mapToLong(d -> d.connections().size()).sum();
        log.info("event=adopted copies={} holding={}", copies.size(), held);
        deleteUnusedSpools(domains, Path.of(config.quotas().spoolDir()));
    }

    private static void deleteUnusedSpools(Map<String, DomainHolds> domains, Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        Set<Path> inUse = new HashSet<>();
        for (DomainHolds domain : domains.values()) {
            for (HeldConnection held : domain.connections()) {
                Path file = held.spoolFile();
                if (file != null) {
                    inUse.add(file.toAbsolutePath());
                }
            }
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.getFileName().toString().endsWith(".spool")).toList()) {
                if (!inUse.contains(file.toAbsolutePath())) {
                    Files.delete(file);
                    log.warn("event=spool_orphan_deleted file={} why=\"no held connection uses it\"", file);
                }
            }
        }
    }
}
