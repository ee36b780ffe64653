package org.tcpferry.agent.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tcpferry.protocol.ConnectionStateCodec;
import org.tcpferry.protocol.FlowKey;
import org.tcpferry.repair.ConnectionState;

/**
 * What a restarted agent needs to finish or undo an operation, under a directory on /run: one
 * file per carried connection ({@code conn-*.json}: flow, owner pid/fd, socket inode, phase, freeze
 * units, the dump encoded with {@link ConnectionStateCodec}, the token, the holder),
 * {@code selected.json} (a batch just selected, before each has a file of its own) and
 * {@code frozen.json}, the units frozen. Each file is replaced atomically (write, then rename). A connection's dump is
 * written before its socket is detached, so a connection with no dump in the journal was never
 * detached and only needs to leave repair mode.
 */
public final class Journal {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String FROZEN = "frozen.json";
    private static final String SELECTED = "selected.json";

    private final Path dir;

    public Journal(Path dir) {
        this.dir = dir;
    }

    public Path dir() {
        return dir;
    }

    /** A connection as the journal remembers it. */
    public record Entry(FlowKey flow, Phase phase, int ownerPid, int ownerFd, long inode, List<FreezeUnit> units,
            ConnectionState dump, byte[] token, String holder) {
    }

    public void write(Carried c) throws IOException {
        replace(fileOf(c.flow), JSON.writeValueAsBytes(node(c)));
    }

    private static ObjectNode node(Carried c) {
        ObjectNode node = JSON.createObjectNode();
        node.put("flow", c.flow.toString());
        node.set("local", address(c.flow.local()));
        node.set("remote", address(c.flow.remote()));
        node.put("phase", c.phase.name());
        node.put("ownerPid", c.ownerPid);
        node.put("ownerFd", c.ownerFd);
        node.put("inode", c.inode);
        node.set("units", units(c.freezeUnits));
        if (c.dump != null) {
            node.put("dump", Base64.getEncoder().encodeToString(ConnectionStateCodec.encode(c.dump)));
        }
        if (c.token != null) {
            node.put("token", Base64.getEncoder().encodeToString(c.token));
        }
        if (c.holder != null) {
            node.put("holder", c.holder);
        }
        return node;
    }

    /**
     * Journals a whole batch as SELECTED in one file: cheaper than one file each, and enough, since
     * a selected connection's own file is written before anything irreversible happens to it
     * (its dump, before it is detached). Call {@link #forgetSelected} once each has its own file.
     */
    public void writeSelected(List<Carried> batch) throws IOException {
        ArrayNode array = JSON.createArrayNode();
        for (Carried c : batch) {
            array.add(node(c));
        }
        replace(SELECTED, JSON.writeValueAsBytes(array));
    }

    public void forgetSelected() throws IOException {
        Files.deleteIfExists(dir.resolve(SELECTED));
    }

    public void forget(FlowKey flow) throws IOException {
        Files.deleteIfExists(dir.resolve(fileOf(flow)));
    }

    public void writeFrozen(List<FreezeUnit> frozen) throws IOException {
        replace(FROZEN, JSON.writeValueAsBytes(units(frozen)));
    }

    public List<FreezeUnit> readFrozen() throws IOException {
        Path file = dir.resolve(FROZEN);
        List<FreezeUnit> out = new ArrayList<>();
        if (Files.exists(file)) {
            for (JsonNode u : JSON.readTree(file.toFile())) {
                out.add(unit(u));
            }
        }
        return out;
    }

    public List<Entry> readConnections() throws IOException {
        List<Entry> entries = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return entries;
        }
        Map<FlowKey, Entry> byFlow = new LinkedHashMap<>();
        Path selected = dir.resolve(SELECTED);
        if (Files.exists(selected)) {
            for (JsonNode n : JSON.readTree(selected.toFile())) {
                Entry e = entry(n);
                byFlow.put(e.flow(), e);
            }
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "conn-*.json")) {
            for (Path file : files) {
                Entry e = entry(JSON.readTree(file.toFile()));
                byFlow.put(e.flow(), e); // a connection's own file is newer than the batch's
            }
        }
        entries.addAll(byFlow.values());
        return entries;
    }

    private static Entry entry(JsonNode n) throws IOException {
        List<FreezeUnit> units = new ArrayList<>();
        n.path("units").forEach(u -> units.add(unit(u)));
        ConnectionState dump = n.hasNonNull("dump")
                ? ConnectionStateCodec.decode(Base64.getDecoder().decode(n.get("dump").asText())) : null;
        byte[] token = n.hasNonNull("token") ? Base64.getDecoder().decode(n.get("token").asText()) : null;
        String holder = n.hasNonNull("holder") ? n.get("holder").asText() : null;
        return new Entry(new FlowKey(address(n.get("local")), address(n.get("remote"))),
                Phase.valueOf(n.get("phase").asText()), n.get("ownerPid").asInt(), n.get("ownerFd").asInt(),
                n.get("inode").asLong(), units, dump, token, holder);
    }

    /** True when nothing is journaled: no operation to finish. */
    public boolean isEmpty() throws IOException {
        return readConnections().isEmpty() && readFrozen().isEmpty();
    }

    /** Forgets everything (the operation finished). */
    public void clear() throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.json")) {
            for (Path file : files) {
                Files.deleteIfExists(file);
            }
        }
    }

    private void replace(String name, byte[] content) throws IOException {
        Files.createDirectories(dir);
        Path tmp = dir.resolve(name + ".tmp");
        Files.write(tmp, content);
        Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static String fileOf(FlowKey flow) {
        return "conn-" + flow.toString().replaceAll("[^A-Za-z0-9.]", "_") + ".json";
    }

    private static ObjectNode address(InetSocketAddress a) {
        ObjectNode n = JSON.createObjectNode();
        n.put("ip", a.getAddress().getHostAddress());
        n.put("port", a.getPort());
        return n;
    }

    private static InetSocketAddress address(JsonNode n) throws IOException {
        return new InetSocketAddress(InetAddress.getByName(n.get("ip").asText()), n.get("port").asInt());
    }

    private static ArrayNode units(List<FreezeUnit> units) {
        ArrayNode array = JSON.createArrayNode();
        for (FreezeUnit u : units) {
            ObjectNode n = array.addObject();
            if (u.isCgroup()) {
                n.put("cgroup", u.cgroup());
            } else {
                n.put("pid", u.pid());
                n.put("startTime", u.startTime());
            }
        }
        return array;
    }

    private static FreezeUnit unit(JsonNode n) {
        return n.hasNonNull("cgroup") ? FreezeUnit.cgroup(n.get("cgroup").asText())
                : FreezeUnit.process(n.get("pid").asInt(), n.get("startTime").asLong());
    }
}
