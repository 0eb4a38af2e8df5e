package dev.framepipe.deploy;

import dev.framepipe.testing.ProjectFiles;
import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.config.FramepipeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * docker/compose.yaml wires up: Prometheus scrapes framepipe where it listens, Grafana finds
 * Prometheus and the dashboards folder, and the dashboards query metric names of the metrics
 * contract. Also the Dockerfile's promises that other files rely on.
 */
class ComposeFilesTest {

    private static final Path DOCKER = ProjectFiles.path("docker");
    /** Metric families of the contract (shared METRICS.md) that dashboards may query. */
    private static final Set<String> CONTRACT = Set.of("pipeline_frames_received_total", "pipeline_frames_completed_total",
            "pipeline_errors_total", "pipeline_received_bytes_total", "pipeline_sent_bytes_total",
            "pipeline_frame_duration_seconds_bucket", "pipeline_frame_duration_seconds_count",
            "pipeline_frame_duration_seconds_sum", "pipeline_connections_active", "pipeline_connections_opened_total",
            "pipeline_ring_capacity", "pipeline_ring_occupancy", "pipeline_backpressure_pauses_total",
            "pipeline_heap_allocated_bytes_total", "pipeline_transform_total");

    @Test
    void prometheusScrapesFramepipeOnItsHttpPortAndGrafanaReadsPrometheus() throws IOException {
        Map<String, Object> services = map(compose().get("services"));
        assertThat(services).containsKeys("framepipe", "prometheus", "grafana");
        int httpPort = FramepipeConfig.defaults().httpPort();

        Map<String, Object> prom = KubernetesManifestsTest.yaml(DOCKER.resolve("prometheus/prometheus.yml"));
        List<Map<String, Object>> jobs = list(prom.get("scrape_configs"));
        Map<String, Object> job = jobs.stream().filter(j -> "framepipe".equals(j.get("job_name"))).findFirst().orElseThrow();
        List<String> targets = list(map(list(job.get("static_configs")).getFirst()).get("targets"));
        assertThat(targets).containsExactly("framepipe:" + httpPort);
        assertThat(list(map(services.get("prometheus")).get("volumes")))
                .contains("./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro");

        Map<String, Object> ds = map(list(KubernetesManifestsTest.yaml(
                DOCKER.resolve("grafana/provisioning/datasources/prometheus.yaml")).get("datasources")).getFirst());
        assertThat(ds).containsEntry("type", "prometheus").containsEntry("url", "http://prometheus:9090")
                .containsEntry("uid", "prometheus");
    }

    @Test
    void grafanaLoadsEveryDashboardInTheFolderAndTheyQueryContractMetrics() throws IOException {
        Map<String, Object> grafana = map(map(compose().get("services")).get("grafana"));
        Map<String, Object> provider = map(list(KubernetesManifestsTest.yaml(
                DOCKER.resolve("grafana/provisioning/dashboards/framepipe.yaml")).get("providers")).getFirst());
        String path = (String) map(provider.get("options")).get("path");
        assertThat(list(grafana.get("volumes"))).contains("./grafana/dashboards:" + path + ":ro",
                "./grafana/provisioning:/etc/grafana/provisioning:ro");

        List<Path> dashboards;
        try (Stream<Path> files = Files.list(DOCKER.resolve("grafana/dashboards"))) {
            dashboards = files.filter(p -> p.toString().endsWith(".json")).toList();
        }
        assertThat(dashboards).isNotEmpty();
        Pattern metric = Pattern.compile("\\b(pipeline_[a-z_]+)");
        for (Path d : dashboards) {
            Map<String, Object> dash = KubernetesManifestsTest.yaml(d); // JSON is YAML
            assertThat(dash.get("uid")).as("uid of %s", d).isNotNull();
            List<String> exprs = new ArrayList<>();
            collectExprs(dash, exprs);
            assertThat(exprs).as("queries in %s", d).isNotEmpty();
            for (String e : exprs) {
                Matcher m = metric.matcher(e);
                while (m.find()) {
                    assertThat(CONTRACT).as("metric in %s: %s", d.getFileName(), e).contains(m.group(1));
                }
            }
        }
    }

    @Test
    void theOverviewDashboardAnswersEachQuestionOfTheMetricsIssue() throws IOException {
        List<String> exprs = new ArrayList<>();
        collectExprs(KubernetesManifestsTest.yaml(DOCKER.resolve("grafana/dashboards/framepipe-overview.json")), exprs);
        // (docker/prometheus/ci-check.sh also runs every one of these against a real Prometheus.)
        assertThat(exprs)
                .as("frames/s by kind and op").anyMatch(e -> e.contains("by (kind, op) (rate(pipeline_frames_completed_total"))
                .as("bytes/s in").anyMatch(e -> e.contains("rate(pipeline_received_bytes_total"))
                .as("bytes/s out").anyMatch(e -> e.contains("rate(pipeline_sent_bytes_total"))
                .as("p50 duration").anyMatch(e -> e.startsWith("histogram_quantile(0.5,")
                        && e.contains("pipeline_frame_duration_seconds_bucket"))
                .as("p99 duration").anyMatch(e -> e.startsWith("histogram_quantile(0.99,")
                        && e.contains("pipeline_frame_duration_seconds_bucket"))
                .as("errors/s by code").anyMatch(e -> e.contains("by (code) (rate(pipeline_errors_total"))
                .as("ring occupancy").anyMatch(e -> e.contains("pipeline_ring_occupancy"))
                .as("back-pressure pauses").anyMatch(e -> e.contains("rate(pipeline_backpressure_pauses_total"))
                .as("heap bytes per frame").anyMatch(e -> e.matches(
                        "sum\\(rate\\(pipeline_heap_allocated_bytes_total.*\\) / sum\\(rate\\(pipeline_frames_completed_total.*"))
                .as("direct memory in use").anyMatch(e -> e.contains("netty_allocator_memory_used_bytes{")
                        && e.contains("memory_type=\"direct\""))
                .as("connections").anyMatch(e -> e.contains("pipeline_connections_active"));
    }

    @Test
    void theImageExposesTheDefaultPortsAndRunsTheJvmAsPid1() throws IOException {
        String dockerfile = Files.readString(ProjectFiles.path("Dockerfile"));
        FramepipeConfig defaults = FramepipeConfig.defaults();
        assertThat(dockerfile).containsPattern("(?m)^EXPOSE " + defaults.framePort() + " " + defaults.httpPort() + "$");
        assertThat(dockerfile).containsPattern("(?m)^ENTRYPOINT \\[\"java\",")
                .contains("--add-modules=jdk.incubator.vector", "FRAMEPIPE_CONFIG=/etc/framepipe/framepipe.yaml",
                        "MaxRAMPercentage");
        assertThat(dockerfile).containsPattern("(?m)^USER \\d+:\\d+$");
    }

    @SuppressWarnings("unchecked")
    private static void collectExprs(Object node, List<String> out) {
        if (node instanceof Map<?, ?> m) {
            Object e = m.get("expr");
            if (e instanceof String s) {
                out.add(s);
            }
            m.values().forEach(v -> collectExprs(v, out));
        } else if (node instanceof List<?> l) {
            l.forEach(v -> collectExprs(v, out));
        }
    }

    private static Map<String, Object> compose() throws IOException {
        return KubernetesManifestsTest.yaml(DOCKER.resolve("compose.yaml"));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        assertThat(o).isInstanceOf(Map.class);
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static <T> List<T> list(Object o) {
        assertThat(o).isInstanceOf(List.class);
        return (List<T>) o;
    }
}
