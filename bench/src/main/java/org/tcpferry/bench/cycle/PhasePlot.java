package org.tcpferry.bench.cycle;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * Median phase time against N, log-log, one panel for the handoff and one for the reclaim, drawn
 * with plain Java2D (headless) and written as PNG. Floor steps are dotted in the colour of the
 * phase they are compared with.
 */
final class PhasePlot {
    private static final int PANEL_W = 560;
    private static final int H = 480;
    private static final int LEFT = 60, RIGHT = 150, TOP = 40, BOTTOM = 50;
    private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c),
            new Color(0xd62728), new Color(0x9467bd), new Color(0x8c564b), new Color(0x333333)};

    private PhasePlot() {}

    static void write(Map<Integer, SizeResult> results, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<SizeResult> ok = results.values().stream().filter(r -> r.failure == null && r.samples.has("handoff total")).toList();
        BufferedImage image = new BufferedImage(2 * PANEL_W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, image.getWidth(), image.getHeight());
        List<String> handoff = new ArrayList<>(CyclePhases.HANDOFF);
        handoff.add("handoff total");
        List<String> reclaim = new ArrayList<>(CyclePhases.RECLAIM);
        reclaim.add("reclaim total");
        panel(g, 0, "Handoff: median ms against N", handoff, ok);
        panel(g, PANEL_W, "Reclaim: median ms against N", reclaim, ok);
        g.dispose();
        ImageIO.write(image, "png", png.toFile());
    }

    private static void panel(Graphics2D g, int x0, String title, List<String> phases, List<SizeResult> results) {
        double minN = 1, maxN = 10_000, minMs = 0.01, maxMs = 1;
        for (SizeResult r : results) {
            maxN = Math.max(maxN, r.n);
            for (String p : phases) {
                if (r.samples.has(p)) {
                    maxMs = Math.max(maxMs, r.samples.median(p));
                }
            }
        }
        maxMs = Math.pow(10, Math.ceil(Math.log10(maxMs)));
        int w = PANEL_W - LEFT - RIGHT, h = H - TOP - BOTTOM;
        Axis ax = new Axis(x0 + LEFT, TOP, w, h, Math.log10(minN), Math.log10(maxN), Math.log10(minMs), Math.log10(maxMs));
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.setColor(Color.BLACK);
        g.drawString(title, x0 + LEFT, 24);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        g.setStroke(new BasicStroke(1));
        for (double d = Math.log10(minN); d <= Math.log10(maxN) + 1e-9; d++) {
            int x = ax.x(d);
            g.setColor(new Color(0xdddddd));
            g.drawLine(x, TOP, x, TOP + h);
            g.setColor(Color.BLACK);
            g.drawString(String.format("%.0f", Math.pow(10, d)), x - 10, TOP + h + 16);
        }
        for (double d = Math.log10(minMs); d <= Math.log10(maxMs) + 1e-9; d++) {
            int y = ax.y(d);
            g.setColor(new Color(0xdddddd));
            g.drawLine(x0 + LEFT, y, x0 + LEFT + w, y);
            g.setColor(Color.BLACK);
            g.drawString(Math.pow(10, d) >= 1 ? String.format("%.0f", Math.pow(10, d)) : String.format("%.2f", Math.pow(10, d)),
                    x0 + 8, y + 4);
        }
        g.drawRect(x0 + LEFT, TOP, w, h);
        // The target: 10,000 connections in at most 500 ms each way.
        int targetX = ax.x(Math.log10(10_000)), targetY = ax.y(Math.log10(500));
        g.setColor(Color.RED);
        g.fillRect(targetX - 4, targetY - 4, 8, 8);
        g.drawString("target", targetX - 44, targetY + 16);
        g.setColor(Color.BLACK);
        g.drawString("N connections", x0 + LEFT + w / 2 - 30, H - 14);
        g.drawString("ms", x0 + 8, TOP - 8);
        for (int i = 0; i < phases.size(); i++) {
            String phase = phases.get(i);
            Color color = COLORS[i % COLORS.length];
            int ly = TOP + 10 + i * 16;
            g.setColor(color);
            g.setStroke(new BasicStroke(phase.endsWith("total") ? 3 : 2));
            line(g, ax, results, r -> r.samples.has(phase) ? r.samples.median(phase) : Double.NaN, minMs);
            g.drawLine(x0 + LEFT + w + 8, ly, x0 + LEFT + w + 24, ly);
            g.setColor(Color.BLACK);
            g.drawString(phase, x0 + LEFT + w + 28, ly + 4);
            String floorStep = Report.FLOOR_OF.get(phase);
            if (floorStep != null) {
                g.setColor(color);
                g.setStroke(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1, new float[] {3, 3}, 0));
                line(g, ax, results, r -> r.floor != null && r.floor.samples().has(floorStep) ? r.floor.samples().median(floorStep)
                        : Double.NaN, minMs);
            }
        }
        int ly = TOP + 10 + phases.size() * 16;
        g.setColor(Color.GRAY);
        g.setStroke(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1, new float[] {3, 3}, 0));
        g.drawLine(x0 + LEFT + w + 8, ly, x0 + LEFT + w + 24, ly);
        g.setColor(Color.BLACK);
        g.drawString("floor (dotted)", x0 + LEFT + w + 28, ly + 4);
    }

    private interface Value {
        double of(SizeResult r);
    }

    private static void line(Graphics2D g, Axis ax, List<SizeResult> results, Value value, double minMs) {
        int px = -1, py = -1;
        for (SizeResult r : results) {
            double v = value.of(r);
            if (Double.isNaN(v)) {
                continue;
            }
            int x = ax.x(Math.log10(r.n)), y = ax.y(Math.log10(Math.max(v, minMs)));
            g.fillOval(x - 3, y - 3, 6, 6);
            if (px >= 0) {
                g.drawLine(px, py, x, y);
            }
            px = x;
            py = y;
        }
    }

    private record Axis(int left, int top, int w, int h, double x0, double x1, double y0, double y1) {
        int x(double v) {
            return left + (int) Math.round((v - x0) / (x1 - x0) * w);
        }

        int y(double v) {
            return top + h - (int) Math.round((v - y0) / (y1 - y0) * h);
        }
    }
}
