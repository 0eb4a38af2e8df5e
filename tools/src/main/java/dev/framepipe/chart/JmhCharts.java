package dev.framepipe.chart;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Charts of {@code bin/framepipe bench} results (JMH's {@code -rf json}):
 * <ul>
 *   <li>kernels: bytes per second of each vector kernel (FloatKernelsBench, TextKernelsBench)
 *       against its scalar twin (dashed, same colour) and the plain vectorized read of the same
 *       memory (memory bandwidth), over the input size, log-log;</li>
 *   <li>ring: SpscRing against JCTools' SpscArrayQueue and ArrayBlockingQueue (RingBenchmark),
 *       in millions of operations per second: hand-off with one producer and one consumer
 *       (polling, and draining 64 at a time), ping-pong round trips (1 / median), and offer +
 *       poll on one thread (1 / average).</li>
 * </ul>
 * A chart is written when the results hold its benchmarks.
 */
final class JmhCharts {

    private JmhCharts() {
    }

    /** Vector kernel, its scalar twin, and what they do, per benchmark class. */
    private record Pair(String vector, String scalar, String label) {
    }

    private static final List<Pair> FLOAT_PAIRS = List.of(new Pair("statsVector", "statsScalar", "STATS"),
            new Pair("scaleVector", "scaleScalar", "SCALE"));
    private static final List<Pair> TEXT_PAIRS = List.of(new Pair("validateVector", "validateScalar", "UTF-8 validation"),
            new Pair("countVector", "countScalar", "COUNT"),
            new Pair("upperLowerVector", "upperLowerScalar", "UPPER then LOWER"),
            new Pair("upperUnchangedVector", "upperUnchangedScalar", "UPPER, already upper case"));

    /** The queues of RingBenchmark, by the suffix of their benchmark names. */
    private static final Map<String, String> QUEUES = new LinkedHashMap<>();

    static {
        QUEUES.put("ring", "SpscRing");
        QUEUES.put("ringVarHandle", "SpscRing (VarHandle slots)");
        QUEUES.put("cachedIndex", "cached-index ring");
        QUEUES.put("jctools", "JCTools SpscArrayQueue");
        QUEUES.put("abq", "ArrayBlockingQueue");
    }

    static List<Path> write(JsonNode results, Path dir, String prefix) throws IOException {
        if (!results.isArray()) {
            throw new IllegalArgumentException("JMH results: expected the JSON array that -rf json writes");
        }
        List<Path> files = new ArrayList<>();
        JFreeChart kernels = kernels(results);
        if (kernels != null) {
            files.add(Svg.write(kernels, dir.resolve(prefix + "-kernels.svg")));
        }
        JFreeChart ring = ring(results);
        if (ring != null) {
            files.add(Svg.write(ring, dir.resolve(prefix + "-ring.svg")));
        }
        if (files.isEmpty()) {
            throw new IllegalArgumentException("JMH results: none of FloatKernelsBench, TextKernelsBench or RingBenchmark in them");
        }
        return files;
    }

    private static JFreeChart kernels(JsonNode results) {
        // class -> method -> size in bytes -> bytes per second
        Map<String, Map<String, TreeMap<Double, Double>>> by = new LinkedHashMap<>();
        for (JsonNode b : results) {
            String name = b.path("benchmark").asText();
            String cls = name.contains(".FloatKernelsBench.") ? "float" : name.contains(".TextKernelsBench.") ? "text" : null;
            if (cls == null) {
                continue;
            }
            String method = name.substring(name.lastIndexOf('.') + 1);
            JsonNode params = b.path("params");
            double bytes = cls.equals("float") ? params.path("floats").asDouble(0) * 4 : params.path("bytes").asDouble(0);
            double opsPerSecond = opsPerSecond(b.path("primaryMetric"));
            if (bytes > 0 && opsPerSecond > 0) {
                by.computeIfAbsent(cls, k -> new LinkedHashMap<>()).computeIfAbsent(method, k -> new TreeMap<>())
                        .put(bytes, bytes * opsPerSecond / 1e9);
            }
        }
        if (by.isEmpty()) {
            return null;
        }
        XYSeriesCollection data = new XYSeriesCollection();
        List<java.awt.Color> colours = new ArrayList<>();
        List<Boolean> dashed = new ArrayList<>();
        int colour = 0;
        for (Map.Entry<String, Map<String, TreeMap<Double, Double>>> e : by.entrySet()) {
            Map<String, TreeMap<Double, Double>> methods = e.getValue();
            String kind = e.getKey().equals("float") ? "floats" : "text";
            TreeMap<Double, Double> read = methods.get("readBaseline");
            if (read != null) {
                data.addSeries(series("memory read (" + kind + ")", read));
                colours.add(Svg.RAW);
                dashed.add(false);
            }
            for (Pair p : e.getKey().equals("float") ? FLOAT_PAIRS : TEXT_PAIRS) {
                java.awt.Color c = Svg.PALETTE[1 + colour++ % (Svg.PALETTE.length - 1)];
                TreeMap<Double, Double> v = methods.get(p.vector());
                TreeMap<Double, Double> sc = methods.get(p.scalar());
                if (v != null) {
                    data.addSeries(series(p.label() + " vector", v));
                    colours.add(c);
                    dashed.add(false);
                }
                if (sc != null) {
                    data.addSeries(series(p.label() + " scalar", sc));
                    colours.add(c);
                    dashed.add(true);
                }
            }
        }
        if (data.getSeriesCount() == 0) {
            return null;
        }
        LogAxis x = Svg.logAxis("input size (bytes, log scale)");
        LogAxis y = Svg.logAxis("GB/s (log scale)");
        JFreeChart chart = Svg.lines("Kernels: vector against scalar twin (dashed) and memory read", x, y, data);
        XYLineAndShapeRenderer r = (XYLineAndShapeRenderer) chart.getXYPlot().getRenderer();
        for (int i = 0; i < data.getSeriesCount(); i++) {
            r.setSeriesPaint(i, colours.get(i));
            if (dashed.get(i)) {
                r.setSeriesStroke(i, Svg.DASHED);
            }
        }
        return chart;
    }

    private static XYSeries series(String label, TreeMap<Double, Double> points) {
        XYSeries s = new XYSeries(label, true, false);
        points.forEach(s::add);
        return s;
    }

    private static JFreeChart ring(JsonNode results) {
        // measure -> queue -> million operations per second
        Map<String, Map<String, Double>> by = new LinkedHashMap<>();
        String handOff = "hand-off, 1 producer + 1 consumer";
        String drain = "hand-off, consumer drains 64";
        String pingPong = "ping-pong round trips (1 / median)";
        String solo = "offer + poll on one thread";
        for (JsonNode b : results) {
            String name = b.path("benchmark").asText();
            if (!name.contains(".RingBenchmark.")) {
                continue;
            }
            String method = name.substring(name.lastIndexOf('.') + 1);
            int us = method.indexOf('_');
            if (us < 0 || !QUEUES.containsKey(method.substring(us + 1))) {
                continue; // ringConsumer_* and others: not a queue against queue
            }
            String queue = method.substring(us + 1);
            String measure = method.substring(0, us);
            double mops = switch (measure) {
                case "throughput" -> opsPerSecond(pollMetric(b)) / 1e6;
                case "drain" -> opsPerSecond(b.path("secondaryMetrics").path("elements")) / 1e6;
                case "pingPong" -> perMedian(pingMetric(b)) / 1e6;
                case "singleThread" -> opsPerSecond(b.path("primaryMetric")) / 1e6;
                default -> 0;
            };
            String label = switch (measure) {
                case "throughput" -> handOff;
                case "drain" -> drain;
                case "pingPong" -> pingPong;
                case "singleThread" -> solo;
                default -> null;
            };
            if (label != null && mops > 0) {
                by.computeIfAbsent(label, k -> new LinkedHashMap<>()).put(queue, mops);
            }
        }
        if (by.isEmpty()) {
            return null;
        }
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (Map.Entry<String, String> q : QUEUES.entrySet()) {
            boolean any = false;
            for (Map<String, Double> m : by.values()) {
                any |= m.containsKey(q.getKey());
            }
            if (!any) {
                continue;
            }
            for (Map.Entry<String, Map<String, Double>> m : by.entrySet()) {
                data.addValue(m.getValue().get(q.getKey()), q.getValue(), m.getKey()); // null: no bar (a log axis has no zero)
            }
        }
        return Svg.bars("Ring: SpscRing against JCTools and ArrayBlockingQueue", "measure",
                "million operations per second (log scale)", data, true);
    }

    /** The consumer's score of a 1 + 1 group (its poll method), else the group's. */
    private static JsonNode pollMetric(JsonNode b) {
        JsonNode sec = b.path("secondaryMetrics");
        for (var it = sec.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (k.endsWith("Poll")) {
                return sec.get(k);
            }
        }
        return b.path("primaryMetric");
    }

    /** The ping side of a ping-pong group (each of its samples is one round trip), else the group's. */
    private static JsonNode pingMetric(JsonNode b) {
        JsonNode sec = b.path("secondaryMetrics");
        for (var it = sec.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (k.endsWith("Ping")) {
                return sec.get(k);
            }
        }
        return b.path("primaryMetric");
    }

    /** Operations per second from a JMH metric: a throughput (ops/time) or an average time (time/op). */
    static double opsPerSecond(JsonNode metric) {
        double score = metric.path("score").asDouble(Double.NaN);
        String unit = metric.path("scoreUnit").asText("");
        if (!(score > 0)) {
            return 0;
        }
        if (unit.startsWith("ops/")) {
            return score / seconds(unit.substring(4));
        }
        if (unit.endsWith("/op")) {
            return 1 / (score * seconds(unit.substring(0, unit.length() - 3)));
        }
        return 0;
    }

    /** Operations per second at the median of a sampled time (SampleTime's percentiles). */
    static double perMedian(JsonNode metric) {
        double p50 = metric.path("scorePercentiles").path("50.0").asDouble(Double.NaN);
        String unit = metric.path("scoreUnit").asText("");
        if (!(p50 > 0) || !unit.endsWith("/op")) {
            return 0;
        }
        return 1 / (p50 * seconds(unit.substring(0, unit.length() - 3)));
    }

    private static double seconds(String unit) {
        return switch (unit) {
            case "s" -> 1;
            case "ms" -> 1e-3;
            case "us" -> 1e-6;
            case "ns" -> 1e-9;
            case "min" -> 60;
            default -> throw new IllegalArgumentException("JMH results: unknown time unit '" + unit + "'");
        };
    }
}
