package dev.framepipe.chart;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The charts of a load-test report, from the summary that {@code load-tests/run.sh} writes beside
 * it ({@code <report>.json}): per scenario and server the medians over the rounds.
 *
 * <pre>
 * {"client": "blocking",
 *  "servers": [{"key": "raw", "label": "raw transport"}, ...],
 *  "scenarios": [{"id": "01-small-stats", "name": "...", "compare": "frames" | "bytes" | "latency",
 *                 "results": {"raw": {"frames_per_second": .., "mb_per_second": .., "server_cpu_cores": ..,
 *                                     "latency_percentiles": [[50.0, 120.5], ...]}, ...}}]}
 * </pre>
 *
 * Charts: frames/s of the frame scenarios, MB/s of the byte scenarios, server CPU per frame of
 * both (log scale), and a latency spectrum per scenario (log-log, HdrHistogram's percentile plot).
 */
final class LoadCharts {

    private LoadCharts() {
    }

    record Server(String key, String label) {
    }

    /** Writes the charts into {@code dir} as {@code <prefix>-*.svg}; returns the files. */
    static List<Path> write(JsonNode summary, Path dir, String prefix) throws IOException {
        List<Server> servers = new ArrayList<>();
        for (JsonNode s : required(summary, "servers")) {
            servers.add(new Server(required(s, "key").asText(), required(s, "label").asText()));
        }
        JsonNode scenarios = required(summary, "scenarios");
        String client = summary.path("client").asText("?");
        List<Path> files = new ArrayList<>();
        JFreeChart frames = throughput(scenarios, servers, "frames", client);
        if (frames != null) {
            files.add(Svg.write(frames, dir.resolve(prefix + "-throughput.svg")));
        }
        JFreeChart bytes = throughput(scenarios, servers, "bytes", client);
        if (bytes != null) {
            files.add(Svg.write(bytes, dir.resolve(prefix + "-throughput-bytes.svg")));
        }
        JFreeChart cpu = cpuPerFrame(scenarios, servers);
        if (cpu != null) {
            files.add(Svg.write(cpu, dir.resolve(prefix + "-cpu-per-frame.svg")));
        }
        for (JsonNode sc : scenarios) {
            JFreeChart spectrum = spectrum(sc, servers);
            if (spectrum != null) {
                files.add(Svg.write(spectrum, dir.resolve(prefix + "-latency-" + Svg.slug(required(sc, "id").asText()) + ".svg")));
            }
        }
        return files;
    }

    private static JFreeChart throughput(JsonNode scenarios, List<Server> servers, String compare, String client) {
        boolean byFrames = compare.equals("frames");
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        boolean any = false;
        for (Server s : servers) { // rows first: the servers' colours follow their order
            for (JsonNode sc : scenarios) {
                if (!compare.equals(sc.path("compare").asText())) {
                    continue;
                }
                JsonNode r = sc.path("results").path(s.key());
                Double y = r.isMissingNode() ? null : byFrames ? r.path("frames_per_second").asDouble() / 1e6
                        : r.path("mb_per_second").asDouble();
                data.addValue(y, s.label(), label(sc));
                any = true;
            }
        }
        if (!any) {
            return null;
        }
        JFreeChart chart = Svg.bars(byFrames ? "Throughput, closed loop" : "Throughput of large frames, closed loop", "scenario",
                byFrames ? "million frames per second" : "MB/s (requests + answers)", data, false);
        Svg.subtitle(chart, "client: " + client + "; medians of the rounds");
        return chart;
    }

    private static JFreeChart cpuPerFrame(JsonNode scenarios, List<Server> servers) {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        boolean any = false;
        for (Server s : servers) {
            for (JsonNode sc : scenarios) {
                String compare = sc.path("compare").asText();
                if ((compare.equals("frames") || compare.equals("bytes")) && hasCpu(sc, servers)) {
                    double ns = nsPerFrame(sc.path("results").path(s.key()));
                    data.addValue(ns > 0 ? ns : null, s.label(), label(sc)); // null: no bar (a log axis has no zero)
                    any = true;
                }
            }
        }
        if (!any) {
            return null;
        }
        JFreeChart chart = Svg.bars("Server CPU per frame, closed loop (lower is better)", "scenario",
                "server CPU time per frame (ns, log scale)", data, true);
        Svg.subtitle(chart, "server CPU (/proc/PID/stat) over the measured window / frames answered; medians of the rounds");
        return chart;
    }

    private static boolean hasCpu(JsonNode sc, List<Server> servers) {
        for (Server s : servers) {
            if (nsPerFrame(sc.path("results").path(s.key())) > 0) {
                return true;
            }
        }
        return false;
    }

    /** Server CPU nanoseconds per frame; 0 when unknown. */
    static double nsPerFrame(JsonNode r) {
        double cores = r.path("server_cpu_cores").asDouble(0);
        double fps = r.path("frames_per_second").asDouble(0);
        return cores > 0 && fps > 0 ? cores / fps * 1e9 : 0;
    }

    /**
     * The latency spectrum of one scenario: latency (log scale) against the percentile, spaced by
     * its nines as HdrHistogram plots it (x = log10(1 / (1 - p)): 1 is 90 %, 2 is 99 %, 3 is 99.9 %),
     * the ticks named by their percentile.
     */
    private static JFreeChart spectrum(JsonNode sc, List<Server> servers) {
        XYSeriesCollection data = new XYSeriesCollection();
        double maxNines = 0;
        for (Server s : servers) {
            XYSeries series = new XYSeries(s.label(), true, false);
            for (JsonNode p : sc.path("results").path(s.key()).path("latency_percentiles")) {
                double pct = p.get(0).asDouble();
                double us = p.get(1).asDouble();
                if (pct < 100 && us > 0) { // the max sits at infinity on this axis: the table gives it
                    series.add(nines(pct), us);
                    maxNines = Math.max(maxNines, nines(pct));
                }
            }
            if (series.getItemCount() > 0) {
                data.addSeries(series);
            }
        }
        if (data.getSeriesCount() == 0) {
            return null;
        }
        NumberAxis x = new NumberAxis("percentile");
        x.setTickUnit(new NumberTickUnit(1, new PercentileFormat()));
        x.setRange(0, Math.max(1, Math.ceil(maxNines - 1e-9)) + 0.2); // room for the last tick's label
        LogAxis y = Svg.logAxis("latency (us, log scale)");
        JFreeChart chart = Svg.lines("Latency spectrum: " + label(sc), x, y, data);
        Svg.subtitle(chart, rate(sc) + "; HdrHistogram percentiles of the median round");
        // the servers' colours as in the other charts, whichever servers have points here
        XYLineAndShapeRenderer r = (XYLineAndShapeRenderer) chart.getXYPlot().getRenderer();
        for (int i = 0; i < data.getSeriesCount(); i++) {
            String label = (String) data.getSeriesKey(i);
            for (int k = 0; k < servers.size(); k++) {
                if (servers.get(k).label().equals(label)) {
                    r.setSeriesPaint(i, Svg.PALETTE[k % Svg.PALETTE.length]);
                }
            }
        }
        return chart;
    }

    /** Tick labels of the spectrum's x axis: a number of nines shown as its percentile. */
    private static final class PercentileFormat extends java.text.NumberFormat {
        @Override
        public StringBuffer format(double nines, StringBuffer to, java.text.FieldPosition pos) {
            return to.append(percentileLabel(nines));
        }

        @Override
        public StringBuffer format(long nines, StringBuffer to, java.text.FieldPosition pos) {
            return to.append(percentileLabel(nines));
        }

        @Override
        public Number parse(String source, java.text.ParsePosition pos) {
            throw new UnsupportedOperationException("tick labels are only formatted");
        }
    }

    /** A percentile's nines: log10(1 / (1 - p)); 90 % is 1, 99.9 % is 3. */
    static double nines(double percentile) {
        return Math.log10(100 / (100 - percentile));
    }

    /** The percentile of a number of nines, as a tick label: 1 is "90%", 3 is "99.9%", 0.5 is "68.377%". */
    static String percentileLabel(double nines) {
        double p = 100 - 100 / Math.pow(10, nines);
        if (p <= 0) {
            return "0%";
        }
        return new java.math.BigDecimal(p).round(new java.math.MathContext(Math.max(3, (int) Math.ceil(nines) + 3)))
                .stripTrailingZeros().toPlainString() + "%";
    }

    private static String label(JsonNode sc) {
        String name = sc.path("name").asText("");
        return name.isEmpty() ? sc.path("id").asText() : name;
    }

    private static String rate(JsonNode sc) {
        double rate = sc.path("rate_per_second").asDouble(0);
        return rate > 0 ? String.format(Locale.ROOT, "open loop at %s frames/s", Svg.si(rate)) : "closed loop";
    }

    static JsonNode required(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            throw new IllegalArgumentException("results: no \"" + field + "\" in " + abbreviate(node.toString()));
        }
        return v;
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }
}
