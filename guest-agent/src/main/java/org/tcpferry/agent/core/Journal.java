package org.tcpferry.agent.core;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tcpferry.protocol.ConnectionStateCodec;
import org.tcpferry.protocol.FlowKey;
import org.tcpferry.repair.ConnectionState;

/**
 * What a restarted agent needs to finish or undo an operation: one append-only file,
 * {@code journal.log} in a directory on /run, of one JSON record per line. A record is a batch of
 * connections in their new phase ({@code conns}: flow, owner pid/fd, socket inode, phase, freeze
 * units, the dump encoded with {@link ConnectionStateCodec}, the token, the holder), a batch of
 * connections to forget ({@code forget}), or the units frozen ({@code frozen}). Reading replays
 * the records in order, merging each connection's records: a later record's fields replace the
 * earlier ones', and a field it leaves out keeps its value. The first record of a connection is
 * complete; later ones carry its flow, its phase and what is new (the dump once, the token and
 * holder), since writing the whole connection again at every phase (its dump twice, in Base64)
 * was most of the journal's cost at 10,000 connections. Records are written with Jackson's
 * streaming generator for the same reason: building a tree of nodes per connection cost more than
 * writing it.
 *
 * <p>Each append is one write and one fsync, however many connections it names: the agent
 * journals a phase change for a whole batch at once (one file per connection per phase cost more
 * than the repair calls themselves at 10,000 connections). A crash in the middle of an append
 * leaves a last line without its newline; reading ignores it, as the step it announced never ran
 * (each append returns before the step it protects). A connection's dump is journaled before its
 * socket is detached, so a connection with no dump in the journal was never detached and only
 * needs to leave repair mode.
 *
 * <p>The file is emptied when the operation finishes ({@link #clear}) and rewritten with only the
 * live records when it has grown well past them.
 */
public final class Journal implements Closeable {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String FILE = "journal.log";
    /** Rewrite the log once it is this many times larger than after the last rewrite (and past {@link #MIN_COMPACT}). */
    private static final int GROWTH_BEFORE_COMPACT = 4;
    private static final long MIN_COMPACT = 16L << 20;

    private final Path dir;
    private final Path file;
    private FileChannel log;
    private long sizeAfterCompaction;
    /** Flows whose complete record (owner, inode, units) the log holds since it was last emptied. */
    private final Set<String> described = new HashSet<>();
    /** Flows whose dump the log holds. */
    private final Set<String> dumped = new HashSet<>();
    /** The record being written, reused. */
    private final ByteArrayOutputStream recordBytes = new ByteArrayOutputStream(64 * 1024);

    public Journal(Path dir) {
        this.dir = dir;
        this.file = dir.resolve(FILE);
    }

    public Path dir() {
        return dir;
    }

    /** A connection as the journal remembers it. */
    public record Entry(FlowKey flow, Phase phase, int ownerPid, int ownerFd, long inode, List<FreezeUnit> units,
            ConnectionState dump, byte[] token, String holder) {
    }

    /** Journals one connection's current phase (and dump, token, holder). */
    public void write(Carried c) throws IOException {
        writeAll(List.of(c));
    }

    /** Journals the current phase of every connection of {@code batch} in one record. */
    public void writeAll(Collection<Carried> batch) throws IOException {
        if (batch.isEmpty()) {
            return;
        }
        open(); // knows what the log holds already
        JsonGenerator g = startRecord();
        g.writeArrayFieldStart("conns");
        for (Carried c : batch) {
            writeConnection(g, c);
        }
        g.writeEndArray();
        appendRecord(g);
    }

    /** Forgets {@code flows} in one record (they are settled). */
    public void forgetAll(Collection<FlowKey> flows) throws IOException {
        if (flows.isEmpty()) {
            return;
        }
        open();
        JsonGenerator g = startRecord();
        g.writeArrayFieldStart("forget");
        for (FlowKey f : flows) {
            String key = f.toString();
            g.writeString(key);
            described.remove(key); // the same four-tuple carried again later starts with a complete record
            dumped.remove(key);
        }
        g.writeEndArray();
        appendRecord(g);
    }

    public void writeFrozen(List<FreezeUnit> frozen) throws IOException {
        ObjectNode record = JSON.createObjectNode();
        record.set("frozen", units(frozen));
        append(record);
    }

    public List<FreezeUnit> readFrozen() throws IOException {
        return replay().frozen;
    }

    public List<Entry> readConnections() throws IOException {
        List<Entry> entries = new ArrayList<>();
        for (JsonNode n : replay().nodes.values()) {
            entries.add(entry(n));
        }
        return entries;
    }

    /** True when nothing is journaled: no operation to finish. */
    public boolean isEmpty() throws IOException {
        State state = replay();
        return state.nodes.isEmpty() && state.frozen.isEmpty();
    }

    /** Forgets everything (the operation finished). */
    public void clear() throws IOException {
        if (log != null) {
            log.truncate(0);
            log.force(false);
        } else if (Files.exists(file)) {
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                channel.truncate(0);
                channel.force(false);
            }
        }
        described.clear();
        dumped.clear();
        sizeAfterCompaction = 0;
    }

    @Override
    public void close() throws IOException {
        if (log != null) {
            log.close();
            log = null;
        }
    }

    // ---------------------------------------------------------------- writing

    private JsonGenerator startRecord() throws IOException {
        recordBytes.reset();
        JsonGenerator g = JSON.getFactory().createGenerator(recordBytes, JsonEncoding.UTF8);
        g.writeStartObject();
        return g;
    }

    private void appendRecord(JsonGenerator g) throws IOException {
        g.writeEndObject();
        g.close();
        recordBytes.write('\n');
        appendLine(recordBytes.toByteArray());
    }

    private void append(ObjectNode record) throws IOException {
        appendLine(line(record));
    }

    private void appendLine(byte[] line) throws IOException {
        FileChannel channel = open();
        ByteBuffer buffer = ByteBuffer.wrap(line);
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
        channel.force(false);
        long size = channel.size();
        if (size > MIN_COMPACT && size > GROWTH_BEFORE_COMPACT * sizeAfterCompaction) {
            compact();
        }
    }

    private FileChannel open() throws IOException {
        if (log == null) {
            Files.createDirectories(dir);
            cutTornRecord();
            rememberWhatIsLogged(replay());
            log = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        }
        return log;
    }

    /** Later records of a connection the log already describes need only say what changed. */
    private void rememberWhatIsLogged(State state) {
        described.clear();
        dumped.clear();
        state.nodes.forEach((flow, node) -> {
            described.add(flow);
            if (node.hasNonNull("dump")) {
                dumped.add(flow);
            }
        });
    }

    /** A record torn by a crash (no newline at the end) would spoil the next one appended after it: cut it off. */
    private void cutTornRecord() throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        byte[] content = Files.readAllBytes(file);
        int end = content.length;
        while (end > 0 && content[end - 1] != '\n') {
            end--;
        }
        if (end < content.length) {
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                channel.truncate(end);
                channel.force(false);
            }
        }
    }

    /** Rewrites the log with one record of the live connections and one of the frozen units, atomically. */
    private void compact() throws IOException {
        State state = replay();
        Path tmp = dir.resolve(FILE + ".tmp");
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ObjectNode conns = JSON.createObjectNode();
            ArrayNode array = conns.putArray("conns");
            state.nodes.values().forEach(array::add);
            ObjectNode frozen = JSON.createObjectNode();
            frozen.set("frozen", units(state.frozen));
            out.write(ByteBuffer.wrap(line(conns)));
            out.write(ByteBuffer.wrap(line(frozen)));
            out.force(false);
        }
        close();
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        sizeAfterCompaction = open().size();
    }

    private static byte[] line(ObjectNode record) throws JsonProcessingException {
        byte[] json = JSON.writeValueAsBytes(record);
        byte[] line = new byte[json.length + 1];
        System.arraycopy(json, 0, line, 0, json.length);
        line[json.length] = '\n';
        return line;
    }

    /** A connection's record: complete the first time, then its phase and what the log does not hold yet. */
    private void writeConnection(JsonGenerator g, Carried c) throws IOException {
        String key = c.flow.toString();
        g.writeStartObject();
        g.writeStringField("flow", key);
        g.writeStringField("phase", c.phase.name());
        if (described.add(key)) {
            writeAddress(g, "local", c.flow.local());
            writeAddress(g, "remote", c.flow.remote());
            g.writeNumberField("ownerPid", c.ownerPid);
            g.writeNumberField("ownerFd", c.ownerFd);
            g.writeNumberField("inode", c.inode);
            g.writeArrayFieldStart("units");
            for (FreezeUnit u : c.freezeUnits) {
                writeUnit(g, u);
            }
            g.writeEndArray();
        }
        byte[] dump = c.encodedDump();
        if (dump != null && dumped.add(key)) {
            g.writeFieldName("dump");
            g.writeBinary(dump); // Base64 as java.util.Base64 reads it: standard alphabet, padded, no line feeds
        }
        if (c.token != null) {
            g.writeFieldName("token");
            g.writeBinary(c.token);
        }
        if (c.holder != null) {
            g.writeStringField("holder", c.holder);
        }
        g.writeEndObject();
    }

    private static void writeAddress(JsonGenerator g, String field, InetSocketAddress a) throws IOException {
        g.writeObjectFieldStart(field);
        g.writeStringField("ip", a.getAddress().getHostAddress());
        g.writeNumberField("port", a.getPort());
        g.writeEndObject();
    }

    private static void writeUnit(JsonGenerator g, FreezeUnit u) throws IOException {
        g.writeStartObject();
        if (u.isCgroup()) {
            g.writeStringField("cgroup", u.cgroup());
        } else {
            g.writeNumberField("pid", u.pid());
            g.writeNumberField("startTime", u.startTime());
        }
        g.writeEndObject();
    }

    // ---------------------------------------------------------------- reading

    /** The journal's content after replaying every complete record. */
    private static final class State {
        /** Each connection not forgotten, its records merged, by flow. */
        final Map<String, ObjectNode> nodes = new LinkedHashMap<>();
        List<FreezeUnit> frozen = new ArrayList<>();
    }

    private State replay() throws IOException {
        State state = new State();
        if (!Files.exists(file)) {
            return state;
        }
        String text = Files.readString(file, StandardCharsets.UTF_8);
        int lineNo = 0;
        int start = 0;
        while (start < text.length()) {
            int end = text.indexOf('\n', start);
            if (end < 0) {
                break; // torn by a crash during its append: the step it announced never ran
            }
            lineNo++;
            String line = text.substring(start, end);
            start = end + 1;
            if (line.isBlank()) {
                continue;
            }
            JsonNode record;
            try {
                record = JSON.readTree(line);
            } catch (JsonProcessingException e) {
                throw new IOException(file + " line " + lineNo + " is not a journal record: " + e.getOriginalMessage(), e);
            }
            apply(state, record);
        }
        return state;
    }

    private static void apply(State state, JsonNode record) {
        for (JsonNode n : record.path("conns")) {
            String key = n.get("flow").asText();
            ObjectNode merged = state.nodes.remove(key); // re-insert: a connection's order is that of its last record
            if (merged == null) {
                merged = (ObjectNode) n;
            } else {
                merged.setAll((ObjectNode) n);
            }
            state.nodes.put(key, merged);
        }
        for (JsonNode f : record.path("forget")) {
            state.nodes.remove(f.asText());
        }
        if (record.has("frozen")) {
            List<FreezeUnit> frozen = new ArrayList<>();
            record.get("frozen").forEach(u -> frozen.add(unit(u)));
            state.frozen = frozen;
        }
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
