package org.tcpferry.host.libvirt;

import java.util.ArrayList;
import java.util.List;

/**
 * A line diff (longest common subsequence) printed as {@code -}/{@code +} lines with two lines of
 * context, enough to show a user what {@code tcpferry setup-domain} changed in a definition.
 */
public final class LineDiff {
    private static final int CONTEXT = 2;

    private LineDiff() {
    }

    /** The diff of {@code before} to {@code after}; empty when they are equal. */
    public static String of(String before, String after) {
        String[] a = before.split("\n", -1);
        String[] b = after.split("\n", -1);
        int[][] lcs = new int[a.length + 1][b.length + 1];
        for (int i = a.length - 1; i >= 0; i--) {
            for (int j = b.length - 1; j >= 0; j--) {
                lcs[i][j] = a[i].equals(b[j]) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
            }
        }
        List<String> lines = new ArrayList<>(); // each prefixed ' ', '-' or '+'
        int i = 0;
        int j = 0;
        while (i < a.length || j < b.length) {
            if (i < a.length && j < b.length && a[i].equals(b[j])) {
                lines.add(" " + a[i++]);
                j++;
            } else if (j < b.length && (i == a.length || lcs[i][j + 1] >= lcs[i + 1][j])) {
                lines.add("+" + b[j++]);
            } else {
                lines.add("-" + a[i++]);
            }
        }
        boolean[] shown = new boolean[lines.size()];
        for (int k = 0; k < lines.size(); k++) {
            if (lines.get(k).charAt(0) != ' ') {
                for (int p = Math.max(0, k - CONTEXT); p <= Math.min(lines.size() - 1, k + CONTEXT); p++) {
                    shown[p] = true;
                }
            }
        }
        StringBuilder out = new StringBuilder();
        int previous = -1;
        for (int k = 0; k < lines.size(); k++) {
            if (!shown[k]) {
                continue;
            }
            if (previous >= 0 && k > previous + 1) {
                out.append("...\n");
            }
            out.append(lines.get(k)).append('\n');
            previous = k;
        }
        return out.toString();
    }

}
