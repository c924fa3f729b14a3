package dev.iomux.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import org.knowm.xchart.ChartEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Turns the RESULT lines of a scaling run (raw C, iomux, JDK NIO, Netty; several rounds) into markdown
 * tables, the performance targets with their measured ratios, and the chart (PNG and SVG, XChart).
 *
 * <pre>
 * Report results.tsv [more.tsv ...] [-o report.md] [-c chart-dir]
 * </pre>
 *
 * <p>A cell is the median over rounds of each round's median run; min and max are over every run of
 * every round. Ratios divide medians of the same run (all rounds interleaved), never numbers from
 * different runs.
 */
public final class Report {
    /** One RESULT line. */
    record Row(String impl, String backend, int n, int a, int w, double usIter, double usMin, double usMax,
               double usDisp, double nsEvent) {
        String key() {
            return impl + " " + backend;
        }
    }

    /** One cell: the rows of one (impl, backend, N, W) over rounds. */
    record Cell(List<Row> rows) {
        double med(java.util.function.ToDoubleFunction<Row> f) {
            double[] v = rows.stream().mapToDouble(f).filter(d -> !Double.isNaN(d)).sorted().toArray();
            if (v.length == 0) {
                return Double.NaN;
            }
            return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
        }

        double min() {
            return rows.stream().mapToDouble(Row::usMin).min().orElse(Double.NaN);
        }

        double max() {
            return rows.stream().mapToDouble(Row::usMax).max().orElse(Double.NaN);
        }
    }

    private final List<Row> rows = new ArrayList<>();
    private final List<String> skips = new ArrayList<>();
    private final List<String> env = new ArrayList<>();

    private Report() {
    }

    /**
     * Reads result files and writes the report and the charts.
     *
     * @param args result files, then optional {@code -o file} and {@code -c directory}
     * @throws IOException if a file cannot be read or written
     */
    public static void main(String[] args) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Report r = new Report();
        Path out = null;
        Path charts = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("-o")) {
                out = Path.of(args[++i]);
            } else if (args[i].equals("-c")) {
                charts = Path.of(args[++i]);
            } else {
                r.read(Path.of(args[i]));
            }
        }
        String md = r.markdown();
        if (out != null) {
            Files.writeString(out, md, StandardCharsets.UTF_8);
        } else {
            System.out.print(md);
        }
        if (charts != null) {
            Files.createDirectories(charts);
            r.chart(0, charts.resolve("scaling"), "rand, 100 random active pairs");
            r.chart(1000, charts.resolve("scaling-chain"), "chain (bench.c), 100 active, 1000 writes");
        }
    }

    private void read(Path p) throws IOException {
        for (String line : Files.readAllLines(p, StandardCharsets.UTF_8)) {
            String[] parts = line.split("\t");
            Map<String, String> kv = new LinkedHashMap<>();
            for (int i = 1; i < parts.length; i++) {
                int eq = parts[i].indexOf('=');
                if (eq > 0) {
                    kv.put(parts[i].substring(0, eq), parts[i].substring(eq + 1));
                }
            }
            switch (parts[0]) {
                case "RESULT":
                    rows.add(new Row(kv.get("impl"), kv.get("backend"), Integer.parseInt(kv.get("N")),
                            Integer.parseInt(kv.get("A")), Integer.parseInt(kv.get("W")), num(kv, "us_iter"),
                            num(kv, "us_iter_min"), num(kv, "us_iter_max"), num(kv, "us_disp"), num(kv, "ns_event")));
                    break;
                case "SKIP":
                    String s = kv.get("impl") + " " + kv.get("backend") + " N=" + kv.get("N") + ": " + kv.get("reason");
                    if (!skips.contains(s)) {
                        skips.add(s);
                    }
                    break;
                case "ENV":
                    String e = line.substring(4).replace('\t', ' ').trim();
                    if (!env.contains(e)) {
                        env.add(e);
                    }
                    break;
                default:
                    break;
            }
        }
    }

    private static double num(Map<String, String> kv, String k) {
        String v = kv.get(k);
        return v == null || v.equals("nan") ? Double.NaN : Double.parseDouble(v);
    }

    private static int group(String impl) {
        if (impl.startsWith("c-raw")) {
            return 0;
        }
        if (impl.startsWith("iomux")) {
            return 1;
        }
        if (impl.contains("nio")) {
            return 2;
        }
        if (impl.startsWith("netty") || impl.contains("netty")) {
            return 3;
        }
        return 4;
    }

    private static final List<String> BACKENDS = List.of("select", "selectbig", "poll", "epoll", "epollet", "uring",
            "uring-single");

    private static final Comparator<String> KEY_ORDER = Comparator
            .comparingInt((String k) -> group(k.split(" ")[0]))
            .thenComparing(k -> k.split(" ")[0])
            .thenComparingInt(k -> {
                int i = BACKENDS.indexOf(k.split(" ")[1]);
                return i < 0 ? 99 : i;
            });

    /** key to N to cell, for one workload. */
    private Map<String, TreeMap<Integer, Cell>> cells(int w) {
        Map<String, TreeMap<Integer, Cell>> m = new TreeMap<>(KEY_ORDER);
        for (Row r : rows) {
            if (r.w() != w) {
                continue;
            }
            m.computeIfAbsent(r.key(), k -> new TreeMap<>())
                    .computeIfAbsent(r.n(), n -> new Cell(new ArrayList<>())).rows().add(r);
        }
        return m;
    }

    private TreeSet<Integer> ns(int w) {
        TreeSet<Integer> s = new TreeSet<>();
        rows.stream().filter(r -> r.w() == w).forEach(r -> s.add(r.n()));
        return s;
    }

    private Cell cell(int w, String key, int n) {
        TreeMap<Integer, Cell> byN = cells(w).get(key);
        return byN == null ? null : byN.get(n);
    }

    String markdown() {
        StringBuilder sb = new StringBuilder();
        if (!env.isEmpty()) {
            sb.append("Machine and tools:\n\n");
            env.forEach(e -> sb.append("- ").append(e).append('\n'));
            sb.append('\n');
        }
        targets(sb);
        for (int w : new TreeSet<>(rows.stream().map(Row::w).toList())) {
            String what = w == 0 ? "rand workload (A=100 random pairs written, one wait, 100 reads)"
                    : "chain workload (bench.c: A=100, W=" + w + "), one chain of " + (100 + w) + " events";
            table(sb, w, "µs per iteration, " + what + "; median [min-max of all runs] (ratio to iomux epoll)",
                    c -> c.med(Row::usIter), true);
            table(sb, w, "µs in dispatch (wait + scan), " + what + " (ratio to iomux epoll)",
                    c -> c.med(Row::usDisp), false);
            table(sb, w, "ns per ready event, " + what, c -> c.med(Row::nsEvent), false);
        }
        if (!skips.isEmpty()) {
            sb.append("Skipped configurations:\n\n");
            skips.forEach(s -> sb.append("- ").append(s).append('\n'));
            sb.append('\n');
        }
        return sb.toString();
    }

    private void table(StringBuilder sb, int w, String title, java.util.function.ToDoubleFunction<Cell> f,
                       boolean range) {
        TreeSet<Integer> ns = ns(w);
        Map<String, TreeMap<Integer, Cell>> m = cells(w);
        sb.append("#### ").append(title).append("\n\n| impl | backend |");
        ns.forEach(n -> sb.append(" N=").append(n).append(" |"));
        sb.append("\n|---|---|");
        ns.forEach(n -> sb.append("---:|"));
        sb.append('\n');
        boolean withRatio = !title.startsWith("ns per");
        for (Map.Entry<String, TreeMap<Integer, Cell>> e : m.entrySet()) {
            String[] k = e.getKey().split(" ");
            double any = e.getValue().values().stream().mapToDouble(f).filter(d -> !Double.isNaN(d)).findAny().orElse(Double.NaN);
            if (Double.isNaN(any)) {
                continue; // e.g. no dispatch figure
            }
            sb.append("| ").append(k[0]).append(" | ").append(k[1]).append(" |");
            for (int n : ns) {
                Cell c = e.getValue().get(n);
                double v = c == null ? Double.NaN : f.applyAsDouble(c);
                if (Double.isNaN(v)) {
                    sb.append(" n/a |");
                    continue;
                }
                sb.append(' ').append(fmt(v));
                if (range) {
                    sb.append(" [").append(fmt(c.min())).append('-').append(fmt(c.max())).append(']');
                }
                Cell base = m.getOrDefault("iomux epoll", new TreeMap<>()).get(n);
                if (withRatio && base != null) {
                    sb.append(String.format(Locale.ROOT, " (%.2fx)", v / f.applyAsDouble(base)));
                }
                sb.append(" |");
            }
            sb.append('\n');
        }
        sb.append('\n');
    }

    private static String fmt(double v) {
        return v >= 100 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.1f", v);
    }

    /** The performance targets, with the ratio measured in this run and each round's ratio. */
    private void targets(StringBuilder sb) {
        String nio = rows.stream().map(Row::impl).filter(i -> i.endsWith("-nio")).findFirst().orElse("jdk-nio");
        String netty = rows.stream().map(Row::impl).filter(i -> i.startsWith("netty")).findFirst().orElse("netty");
        sb.append("#### Targets (rand workload; ratio = ours / theirs, median over rounds; per-round ratios in brackets)\n\n");
        sb.append("| target | N | measured | per round | met |\n|---|---:|---:|---|:-:|\n");
        for (int n : ns(0)) {
            target(sb, "iomux epoll / C epoll, µs per iteration, ≤ 1.10", n, "iomux epoll", "c-raw epoll",
                    Row::usIter, 1.10);
            target(sb, "iomux epoll / C epoll, dispatch, ≤ 1.05", n, "iomux epoll", "c-raw epoll",
                    Row::usDisp, 1.05);
            target(sb, "iomux epollet / C epollet, µs per iteration, ≤ 1.10", n, "iomux epollet",
                    "c-raw epollet", Row::usIter, 1.10);
            target(sb, "iomux epoll / JDK NIO epoll, < 1", n, "iomux epoll", nio + " epoll", Row::usIter, 0.9999);
            target(sb, "iomux epoll / Netty JNI epoll (both level-triggered)" + (n == 9900 ? ", < 1" : ""), n,
                    "iomux epoll", netty + " epoll", Row::usIter, n == 9900 ? 0.9999 : Double.NaN);
            target(sb, "iomux epollet / Netty JNI epollet (both edge-triggered)" + (n == 9900 ? ", < 1" : ""), n,
                    "iomux epollet", netty + " epollet", Row::usIter, n == 9900 ? 0.9999 : Double.NaN);
            target(sb, "iomux uring / iomux epoll, ≤ 1.05", n, "iomux uring", "iomux epoll", Row::usIter, 1.05);
            target(sb, "iomux uring-single / iomux epoll, ≤ 1.05", n, "iomux uring-single", "iomux epoll",
                    Row::usIter, 1.05);
            target(sb, "iomux poll / C poll, ≤ 1.15", n, "iomux poll", "c-raw poll", Row::usIter, 1.15);
            target(sb, "iomux select / C select, ≤ 1.15", n, "iomux select", "c-raw select", Row::usIter, 1.15);
            target(sb, "(explains) iomux epoll / C epoll with one idle thread", n, "iomux epoll", "c-raw-mt epoll",
                    Row::usIter, Double.NaN);
            target(sb, "(explains) iomux poll / C poll with one idle thread", n, "iomux poll", "c-raw-mt poll",
                    Row::usIter, Double.NaN);
            target(sb, "(explains) iomux select / C select with one idle thread", n, "iomux select",
                    "c-raw-mt select", Row::usIter, Double.NaN);
        }
        sb.append('\n');
    }

    private void target(StringBuilder sb, String what, int n, String ours, String theirs,
                        java.util.function.ToDoubleFunction<Row> f, double limit) {
        Cell a = cell(0, ours, n);
        Cell b = cell(0, theirs, n);
        if (a == null || b == null) {
            return;
        }
        double ratio = a.med(f) / b.med(f);
        if (Double.isNaN(ratio)) {
            return;
        }
        // Per round: the i-th row of each cell comes from the i-th round (the rounds run in order).
        StringBuilder rounds = new StringBuilder();
        for (int i = 0; i < Math.min(a.rows().size(), b.rows().size()); i++) {
            rounds.append(rounds.length() == 0 ? "" : " ").append(String.format(Locale.ROOT, "%.2f",
                    f.applyAsDouble(a.rows().get(i)) / f.applyAsDouble(b.rows().get(i))));
        }
        String met = Double.isNaN(limit) ? "-" : ratio <= limit ? "yes" : "**no**";
        sb.append(String.format(Locale.ROOT, "| %s | %d | %.2f | [%s] | %s |%n", what, n, ratio, rounds, met));
    }

    private static java.awt.Color colour(String backend) {
        switch (backend) {
            case "select": return new java.awt.Color(0xD62728);
            case "selectbig": return new java.awt.Color(0x8C564B);
            case "poll": return new java.awt.Color(0xFF7F0E);
            case "epoll": return new java.awt.Color(0x1F77B4);
            case "epollet": return new java.awt.Color(0x2CA02C);
            case "uring": return new java.awt.Color(0x9467BD);
            case "uring-single": return new java.awt.Color(0xE377C2);
            default: return java.awt.Color.GRAY;
        }
    }

    private void chart(int w, Path base, String title) throws IOException {
        Map<String, TreeMap<Integer, Cell>> m = cells(w);
        if (m.isEmpty()) {
            return;
        }
        XYChart chart = new XYChartBuilder().width(1100).height(660)
                .title(title + ". Thick: iomux; thin: C (dotted: + 1 idle thread); dashed: JDK NIO; dash-dot: Netty")
                .xAxisTitle("N registered socketpairs (log scale)")
                .yAxisTitle("µs per iteration (log scale)").build();
        chart.getStyler().setXAxisLogarithmic(true);
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        chart.getStyler().setPlotGridLinesVisible(true);
        chart.getStyler().setMarkerSize(7);
        for (Map.Entry<String, TreeMap<Integer, Cell>> e : m.entrySet()) {
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            e.getValue().forEach((n, c) -> {
                double v = c.med(Row::usIter);
                if (!Double.isNaN(v)) {
                    xs.add((double) n);
                    ys.add(v);
                }
            });
            if (xs.isEmpty()) {
                continue;
            }
            XYSeries s = chart.addSeries(e.getKey(), xs, ys);
            String[] k = e.getKey().split(" ");
            // Colour says the kernel interface, line and marker say whose code: iomux thick and solid.
            s.setLineColor(colour(k[1]));
            s.setMarkerColor(colour(k[1]));
            int g = group(k[0]);
            boolean mt = k[0].endsWith("-mt");
            s.setMarker(g == 0 ? (mt ? SeriesMarkers.NONE : SeriesMarkers.SQUARE)
                    : g == 1 ? SeriesMarkers.CIRCLE : g == 2 ? SeriesMarkers.DIAMOND : SeriesMarkers.TRIANGLE_UP);
            float[] dash = g == 1 ? null : g == 0 ? (mt ? new float[] {2f, 3f} : null)
                    : g == 2 ? new float[] {8f, 4f} : new float[] {8f, 3f, 2f, 3f};
            s.setLineStyle(new java.awt.BasicStroke(g == 1 ? 3.5f : 1.5f, java.awt.BasicStroke.CAP_BUTT,
                    java.awt.BasicStroke.JOIN_MITER, 10f, dash, 0f));
        }
        try (java.io.OutputStream png = Files.newOutputStream(Path.of(base + ".png"))) {
            ChartEncoder.saveChart(chart, png, "png");
        }
        try (java.io.OutputStream svg = Files.newOutputStream(Path.of(base + ".svg"))) {
            ChartEncoder.saveChart(chart, svg, "svg"); // through VectorGraphics2D
        }
    }
}
