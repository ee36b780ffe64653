package org.tcpferry.rig;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The rig's safety net for the root network namespace, which it never changes on purpose: links or
 * nft tables whose names carry a rig's prefix there can only be leaks (a veth created in the wrong
 * namespace, a tool run without nsenter). They are removed, and reported so the leak gets fixed.
 */
final class RootNamespaceLeaks {
    private RootNamespaceLeaks() {}

    /** Removes root-namespace links and nft tables named with {@code prefix}, adding one problem for each. */
    static void remove(String prefix, List<Exception> problems) {
        try {
            for (String link : rootLinks(prefix)) {
                ExecResult result = Commands.run(List.of(Tools.require("ip"), "link", "delete", link), null);
                problems.add(new RigException("link " + link + " leaked into the root namespace; deleted"
                        + (result.succeeded() ? "" : " failed: " + result.stderr().strip())));
            }
        } catch (IOException | RuntimeException e) {
            problems.add(new RigException("cannot check the root namespace for leaked links: " + e.getMessage(), e));
        }
        try {
            for (String table : rootTables(prefix)) {
                ExecResult result = Commands.run(List.of(Tools.require("nft"), "delete " + table), null);
                problems.add(new RigException("nft " + table + " leaked into the root namespace; deleted"
                        + (result.succeeded() ? "" : " failed: " + result.stderr().strip())));
            }
        } catch (RuntimeException e) {
            problems.add(new RigException("cannot check the root namespace for leaked nft tables: " + e.getMessage(), e));
        }
    }

    /** Root-namespace links named with the prefix; /sys belongs to the root namespace for this JVM. */
    private static List<String> rootLinks(String prefix) throws IOException {
        List<String> links = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of("/sys/class/net"), prefix + "*")) {
            for (Path link : dir) {
                links.add(link.getFileName().toString());
            }
        }
        return links;
    }

    /** Root-namespace tables named with the prefix, as {@code "table <family> <name>"}. */
    private static List<String> rootTables(String prefix) {
        ExecResult listing = Commands.check(List.of(Tools.require("nft"), "list", "tables"), null);
        List<String> tables = new ArrayList<>();
        for (String line : listing.stdout().split("\n")) {
            String[] words = line.strip().split("\\s+");
            if (words.length == 3 && words[0].equals("table") && words[2].contains(prefix)) {
                tables.add(line.strip());
            }
        }
        return tables;
    }
}
