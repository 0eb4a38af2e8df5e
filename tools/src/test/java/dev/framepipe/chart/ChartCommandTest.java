package dev.framepipe.chart;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

/** Charts are made from results, are well-formed SVG, and bad input gets a clear error. */
class ChartCommandTest {

    @TempDir
    Path dir;

    static final String SPECTRUM = "[[0.0, 40.0], [50.0, 100.0], [90.0, 150.0], [99.0, 400.0], [99.9, 900.0], [99.99, 2000.0], [100.0, 5000.0]]";

    static String result(double fps, double mbps, double cores) {
        return "{\"frames_per_second\": " + fps + ", \"mb_per_second\": " + mbps + ", \"server_cpu_cores\": " + cores
                + ", \"latency_percentiles\": " + SPECTRUM + "}";
    }

    static final String SUMMARY = """
            {"client": "blocking",
             "servers": [{"key": "raw", "label": "raw transport"}, {"key": "netty", "label": "Netty baseline"},
                         {"key": "framepipe", "label": "framepipe"}],
             "scenarios": [
               {"id": "01-small-stats", "name": "STATS 64 floats", "compare": "frames",
                "results": {"raw": %s, "netty": %s, "framepipe": %s}},
               {"id": "03-large-stats", "name": "STATS 1 Mi floats", "compare": "bytes",
                "results": {"raw": %s, "netty": %s, "framepipe": %s}},
               {"id": "05-latency-half-rate", "name": "STATS 64 at half rate", "compare": "latency", "rate_per_second": 1000000,
                "results": {"raw": %s, "framepipe": %s}}]}
            """.formatted(result(8.2e6, 2200, 0.95), result(2.7e6, 700, 0.9), result(2.1e6, 550, 1.2),
            result(990, 4200, 0.78), result(360, 1500, 0.8), result(400, 1700, 1.1),
            result(1e6, 270, 0.2), result(1e6, 270, 0.6));

    @Test
    void aLoadSummaryGivesThroughputCpuAndALatencySpectrumPerScenario() throws Exception {
        Path json = Files.writeString(dir.resolve("2026-01-01-0000.json"), SUMMARY);
        List<String> out = run("load", json.toString());
        assertThat(out).containsExactly(
                dir.resolve("2026-01-01-0000-throughput.svg").toString(),
                dir.resolve("2026-01-01-0000-throughput-bytes.svg").toString(),
                dir.resolve("2026-01-01-0000-cpu-per-frame.svg").toString(),
                dir.resolve("2026-01-01-0000-latency-01-small-stats.svg").toString(),
                dir.resolve("2026-01-01-0000-latency-03-large-stats.svg").toString(),
                dir.resolve("2026-01-01-0000-latency-05-latency-half-rate.svg").toString());
        for (String f : out) {
            Document svg = parse(Path.of(f));
            assertThat(svg.getDocumentElement().getNodeName()).isEqualTo("svg");
        }
        String throughput = Files.readString(dir.resolve("2026-01-01-0000-throughput.svg"));
        assertThat(throughput).contains("raw transport").contains("Netty baseline").contains("framepipe")
                .contains("STATS 64 floats").contains("client: blocking")
                .contains(">8.2<").contains(">2.7<").contains(">2.1<"); // the bars' values, in million frames/s
        // CPU per frame: 0.95 cores / 8.2 M frames/s = 115.85 ns
        assertThat(Files.readString(dir.resolve("2026-01-01-0000-cpu-per-frame.svg"))).contains(">115.85<");
        assertThat(Files.readString(dir.resolve("2026-01-01-0000-latency-05-latency-half-rate.svg")))
                .contains("99.9%").contains("open loop");
    }

    @Test
    void jmhResultsGiveTheKernelAndRingCharts() throws Exception {
        StringBuilder jmh = new StringBuilder("[");
        for (String m : List.of("statsVector", "statsScalar", "readBaseline", "scaleVector", "scaleScalar")) {
            for (int floats : new int[] {16, 1024, 65536}) {
                jmh.append(benchmark("dev.framepipe.kernel.bench.FloatKernelsBench." + m, "{\"floats\": \"" + floats + "\"}",
                        "ops/s", 1e9 / floats * (m.endsWith("Scalar") ? 0.2 : 1), "{}")).append(',');
            }
        }
        for (String m : List.of("countVector", "countScalar", "readBaseline")) {
            jmh.append(benchmark("dev.framepipe.kernel.bench.TextKernelsBench." + m, "{\"bytes\": \"1024\"}", "ops/s", 1e6, "{}"))
                    .append(',');
        }
        for (String q : List.of("ring", "jctools", "abq")) {
            jmh.append(benchmark("dev.framepipe.ring.RingBenchmark.throughput_" + q, "{}", "ops/us", 200,
                    "{\"" + q + "Poll\": {\"score\": 100.0, \"scoreUnit\": \"ops/us\"}}")).append(',');
            jmh.append(benchmark("dev.framepipe.ring.RingBenchmark.singleThread_" + q, "{}", "ns/op", 2.5, "{}")).append(',');
            jmh.append(benchmark("dev.framepipe.ring.RingBenchmark.pingPong_" + q, "{}", "ns/op", 900,
                    "{\"" + q + "Ping\": {\"score\": 900.0, \"scoreUnit\": \"ns/op\", \"scorePercentiles\": {\"50.0\": 250.0}}}"))
                    .append(',');
        }
        jmh.append(benchmark("dev.framepipe.metrics.RecordingBench.record", "{}", "ops/s", 1e8, "{}")).append(']');
        Path json = Files.writeString(dir.resolve("bench.json"), jmh.toString());
        List<String> out = run("jmh", json.toString(), "--out", dir.resolve("charts").toString(), "--name", "b");
        assertThat(out).containsExactly(dir.resolve("charts/b-kernels.svg").toString(), dir.resolve("charts/b-ring.svg").toString());
        for (String f : out) {
            assertThat(parse(Path.of(f)).getDocumentElement().getNodeName()).isEqualTo("svg");
        }
        assertThat(Files.readString(Path.of(out.get(0)))).contains("STATS vector").contains("STATS scalar")
                .contains("memory read (floats)").contains("COUNT vector");
        assertThat(Files.readString(Path.of(out.get(1)))).contains("JCTools SpscArrayQueue").contains("ArrayBlockingQueue")
                .contains("ping-pong");
        // the units: 100 ops/us = 100 M/s, 2.5 ns/op = 400 M/s, a median of 250 ns = 4 M/s
        assertThat(JmhCharts.opsPerSecond(new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree("{\"score\": 2.5, \"scoreUnit\": \"ns/op\"}"))).isCloseTo(4e8, org.assertj.core.data.Offset.offset(1e-3));
        assertThat(JmhCharts.perMedian(new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree("{\"scoreUnit\": \"ns/op\", \"scorePercentiles\": {\"50.0\": 250.0}}"))).isCloseTo(4e6, org.assertj.core.data.Offset.offset(1e-3));
    }

    @Test
    void badInputGetsAClearErrorAndExitStatus() throws Exception {
        Path notJson = Files.writeString(dir.resolve("x.json"), "{oops");
        assertThat(status("load", notJson.toString())).isEqualTo(1);
        assertThat(lastError).contains("is not JSON");
        assertThat(status("load", dir.resolve("missing.json").toString())).isEqualTo(1);
        assertThat(lastError).contains("no such file");
        Path noServers = Files.writeString(dir.resolve("y.json"), "{\"scenarios\": []}");
        assertThat(status("load", noServers.toString())).isEqualTo(1);
        assertThat(lastError).contains("no \"servers\"");
        Path noBenchmarks = Files.writeString(dir.resolve("z.json"), "[]");
        assertThat(status("jmh", noBenchmarks.toString())).isEqualTo(1);
        assertThat(lastError).contains("none of FloatKernelsBench");
        assertThat(status("pie", noBenchmarks.toString())).isEqualTo(2);
        assertThat(LoadCharts.percentileLabel(3)).isEqualTo("99.9%");
        assertThat(LoadCharts.percentileLabel(1)).isEqualTo("90%");
        assertThat(LoadCharts.percentileLabel(0)).isEqualTo("0%");
        assertThat(LoadCharts.percentileLabel(5)).isEqualTo("99.999%");
        assertThat(LoadCharts.nines(99.99)).isCloseTo(4, org.assertj.core.data.Offset.offset(1e-9));
    }

    private static String benchmark(String name, String params, String unit, double score, String secondary) {
        return "{\"benchmark\": \"" + name + "\", \"params\": " + params + ", \"primaryMetric\": {\"score\": " + score
                + ", \"scoreUnit\": \"" + unit + "\"}, \"secondaryMetrics\": " + secondary + "}";
    }

    private String lastError;

    private List<String> run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream old = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            assertThat(ChartCommand.run(args)).as("exit status").isZero();
        } finally {
            System.setOut(old);
        }
        return new ArrayList<>(out.toString(StandardCharsets.UTF_8).lines().toList());
    }

    private int status(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream old = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            return ChartCommand.run(args);
        } finally {
            System.setErr(old);
            lastError = err.toString(StandardCharsets.UTF_8);
        }
    }

    private static Document parse(Path svg) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        return f.newDocumentBuilder().parse(svg.toFile());
    }
}
