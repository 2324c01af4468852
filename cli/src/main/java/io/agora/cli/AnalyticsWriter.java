package io.agora.cli;

import io.agora.events.Outcome;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Prints {@link MarketAnalytics} and writes it as CSV files and a throughput chart (Java2D, PNG). */
public final class AnalyticsWriter {
    public static final List<String> FILES = List.of("throughput.csv", "latency.csv", "workers.csv", "prices.csv",
            "pools.csv", "throughput.png");
    private static final DateTimeFormatter HHMM = DateTimeFormatter.ofPattern("MM-dd HH:mm").withZone(ZoneOffset.UTC);

    private AnalyticsWriter() {
    }

    /** A readable summary. */
    public static void print(MarketAnalytics a, PrintWriter out) {
        out.printf("analytics %s .. %s (bucket %s): %d verdicts%n", a.from(), a.to(), a.bucket(), a.verdictCount());
        List<MarketAnalytics.Bucket> buckets = a.throughput();
        long peak = buckets.stream().mapToLong(MarketAnalytics.Bucket::verdicts).max().orElse(0);
        double minutes = Math.max(1e-9, (a.to().toEpochMilli() - a.from().toEpochMilli()) / 60_000.0);
        out.printf("throughput: %.2f verdicts/min on average, peak %d per bucket%n", a.verdictCount() / minutes, peak);
        out.println("latency submit->verdict (ms):");
        for (MarketAnalytics.Latency l : a.latency()) {
            out.printf("  %-13s n=%-6d p50=%-8d p95=%-8d p99=%-8d max=%d%n", l.group(), l.count(), l.p50(), l.p95(), l.p99(), l.max());
        }
        out.println("workers:");
        for (MarketAnalytics.WorkerStats w : a.workers()) {
            out.printf("  %-24s earned=%-12d payouts=%-4d tasks=%-4d agree=%d/%d (%s)%n", abbreviate(w.workerId()),
                    w.earningsMicros(), w.payouts(), w.tasks(), w.agreeing(), w.agreeing() + w.dissenting(),
                    percent(w.agreementRate()));
        }
        out.println("prices (micro-credits per cpu-second, tasks assigned):");
        for (MarketAnalytics.PriceBin b : a.prices()) {
            out.printf("  %-15s %d%n", b.low() == b.high() ? Long.toString(b.low()) : b.low() + "-" + b.high(), b.count());
        }
        out.println("consensus reliability per pool:");
        for (MarketAnalytics.PoolStats p : a.pools()) {
            out.printf("  %-12s %d/%d COMPLETED (%s) %s%n", p.pool(), p.completed(), p.total(), percent(p.reliability()),
                    p.outcomes());
        }
    }

    /** Writes the CSV files and {@code throughput.png} into {@code dir} (created if needed); returns the paths. */
    public static List<Path> write(MarketAnalytics a, Path dir) throws IOException {
        Files.createDirectories(dir);
        List<Path> out = new ArrayList<>();
        List<String> rows = new ArrayList<>();
        rows.add("bucket_start,verdicts,completed");
        a.throughput().forEach(b -> rows.add(b.start() + "," + b.verdicts() + "," + b.completed()));
        out.add(csv(dir.resolve("throughput.csv"), rows));

        rows.clear();
        rows.add("group,count,p50_ms,p95_ms,p99_ms,max_ms,mean_ms");
        a.latency().forEach(l -> rows.add(String.join(",", l.group(), Integer.toString(l.count()), Long.toString(l.p50()),
                Long.toString(l.p95()), Long.toString(l.p99()), Long.toString(l.max()), fmt(l.mean()))));
        out.add(csv(dir.resolve("latency.csv"), rows));

        rows.clear();
        rows.add("worker_id,earnings_micros,payouts,tasks,results,agreeing,dissenting,agreement_rate");
        a.workers().forEach(w -> rows.add(String.join(",", quote(w.workerId()), Long.toString(w.earningsMicros()),
                Integer.toString(w.payouts()), Integer.toString(w.tasks()), Integer.toString(w.results()),
                Integer.toString(w.agreeing()), Integer.toString(w.dissenting()), fmt(w.agreementRate()))));
        out.add(csv(dir.resolve("workers.csv"), rows));

        rows.clear();
        rows.add("price_low_micros,price_high_micros,tasks");
        a.prices().forEach(b -> rows.add(b.low() + "," + b.high() + "," + b.count()));
        out.add(csv(dir.resolve("prices.csv"), rows));

        rows.clear();
        StringBuilder header = new StringBuilder("pool,verdicts,completed,reliability");
        for (Outcome o : Outcome.values()) {
            header.append(',').append(o.name().toLowerCase(Locale.ROOT));
        }
        rows.add(header.toString());
        for (MarketAnalytics.PoolStats p : a.pools()) {
            StringBuilder r = new StringBuilder(quote(p.pool())).append(',').append(p.total()).append(',')
                    .append(p.completed()).append(',').append(fmt(p.reliability()));
            for (Outcome o : Outcome.values()) {
                r.append(',').append(p.outcomes().getOrDefault(o, 0L));
            }
            rows.add(r.toString());
        }
        out.add(csv(dir.resolve("pools.csv"), rows));

        Path png = dir.resolve("throughput.png");
        ImageIO.write(throughputChart(a, 960, 480), "png", png.toFile());
        out.add(png);
        return out;
    }

    /** Bars of verdicts per bucket (COMPLETED darker), with axes and labels. */
    static BufferedImage throughputChart(MarketAnalytics a, int width, int height) {
        System.setProperty("java.awt.headless", "true");
        List<MarketAnalytics.Bucket> buckets = a.throughput();
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            int left = 60;
            int right = 20;
            int top = 40;
            int bottom = 50;
            int plotW = width - left - right;
            int plotH = height - top - bottom;
            long max = Math.max(1, buckets.stream().mapToLong(MarketAnalytics.Bucket::verdicts).max().orElse(0));
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            FontMetrics fm = g.getFontMetrics();
            g.setColor(Color.BLACK);
            g.drawString("Verdicts per " + human(a.bucket()) + " (" + a.from() + " .. " + a.to() + ")", left, 20);
            // horizontal grid and y labels
            int ticks = (int) Math.min(5, max);
            for (int i = 0; i <= ticks; i++) {
                long v = Math.round((double) max * i / ticks);
                int y = top + plotH - (int) Math.round((double) plotH * v / max);
                g.setColor(new Color(230, 230, 230));
                g.drawLine(left, y, left + plotW, y);
                g.setColor(Color.DARK_GRAY);
                String s = Long.toString(v);
                g.drawString(s, left - 8 - fm.stringWidth(s), y + fm.getAscent() / 2);
            }
            // bars
            int n = buckets.size();
            double slot = (double) plotW / n;
            int barW = (int) Math.max(1, Math.floor(slot * 0.8));
            for (int i = 0; i < n; i++) {
                MarketAnalytics.Bucket b = buckets.get(i);
                int x = left + (int) Math.round(i * slot + (slot - barW) / 2);
                int hAll = (int) Math.round((double) plotH * b.verdicts() / max);
                int hDone = (int) Math.round((double) plotH * b.completed() / max);
                g.setColor(new Color(160, 190, 230));
                g.fillRect(x, top + plotH - hAll, barW, hAll);
                g.setColor(new Color(40, 90, 170));
                g.fillRect(x, top + plotH - hDone, barW, hDone);
            }
            // axes and x labels
            g.setColor(Color.BLACK);
            g.setStroke(new BasicStroke(1.5f));
            g.drawLine(left, top + plotH, left + plotW, top + plotH);
            g.drawLine(left, top, left, top + plotH);
            int labels = Math.min(n, 6);
            for (int i = 0; i < labels; i++) {
                int idx = labels == 1 ? 0 : (int) Math.round((double) i * (n - 1) / (labels - 1));
                String s = HHMM.format(buckets.get(idx).start());
                int x = left + (int) Math.round(idx * slot + slot / 2) - fm.stringWidth(s) / 2;
                g.drawString(s, Math.max(0, Math.min(width - fm.stringWidth(s), x)), top + plotH + 18);
            }
            g.drawString("time (UTC)", left + plotW / 2 - fm.stringWidth("time (UTC)") / 2, height - 10);
            g.setColor(new Color(40, 90, 170));
            g.fillRect(width - 230, 10, 10, 10);
            g.setColor(new Color(160, 190, 230));
            g.fillRect(width - 120, 10, 10, 10);
            g.setColor(Color.BLACK);
            g.drawString("completed", width - 215, 20);
            g.drawString("other", width - 105, 20);
        } finally {
            g.dispose();
        }
        return img;
    }

    private static Path csv(Path file, List<String> rows) throws IOException {
        Files.write(file, rows, StandardCharsets.UTF_8);
        return file;
    }

    private static String quote(String s) {
        return s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    static String fmt(double d) {
        return Double.isNaN(d) ? "" : String.format(Locale.ROOT, "%.4f", d);
    }

    private static String percent(double d) {
        return Double.isNaN(d) ? "n/a" : String.format(Locale.ROOT, "%.1f%%", d * 100);
    }

    private static String human(java.time.Duration d) {
        return d.toMinutes() == 1 && d.toSecondsPart() == 0 ? "minute" : d.toString().substring(2).toLowerCase(Locale.ROOT);
    }

    private static String abbreviate(String s) {
        return s.length() > 24 ? s.substring(0, 21) + "..." : s;
    }
}
