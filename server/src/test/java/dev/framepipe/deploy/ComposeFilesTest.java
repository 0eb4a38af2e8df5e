package dev.framepipe.deploy;

import dev.framepipe.testing.ProjectFiles;
import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.config.ConfigLoader;
import dev.framepipe.config.FramepipeConfig;
import dev.framepipe.server.FileDescriptorBudget;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * docker/compose.yaml wires up: Prometheus scrapes framepipe where it listens and loads the
 * alerting rules, Grafana finds Prometheus and the dashboards folder, the dashboards take their
 * data source from a variable and query only metric names of the metrics contract or names a
 * real server exposes. Also the Dockerfile's promises that other files rely on.
 */
class ComposeFilesTest {

    private static final Path DOCKER = ProjectFiles.path("docker");
    /** Metric families of the contract (shared METRICS.md) that dashboards may query. */
    // Also alerts; sample names as Prometheus shows them, including those the server does not
    // expose yet (framepipe_build_info). The standard JVM, process and Netty allocator meters the
    // contract lists by family are checked against a real scrape instead (ExposedMetrics).
    static final Set<String> CONTRACT = Set.of("pipeline_frames_received_total", "pipeline_frames_completed_total",
            "pipeline_errors_total", "pipeline_received_bytes_total", "pipeline_sent_bytes_total",
            "pipeline_frame_duration_seconds_bucket", "pipeline_frame_duration_seconds_count",
            "pipeline_frame_duration_seconds_sum", "pipeline_connections_active", "pipeline_connections_opened_total",
            "pipeline_ring_capacity", "pipeline_ring_occupancy", "pipeline_backpressure_pauses_total",
            "pipeline_direct_memory_budget_bytes", "pipeline_connections_refused_total",
            "pipeline_heap_allocated_bytes_total", "pipeline_transform_total", "framepipe_build_info");
    /** The dashboards' data source: a template variable, never a fixed uid. */
    private static final Pattern DATASOURCE_VARIABLE = Pattern.compile("\\$\\{datasource}|\\$datasource");

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
        assertThat(map(services.get("prometheus")).get("command").toString())
                .contains("--config.file=/etc/prometheus/prometheus.yml");

        Map<String, Object> ds = map(list(KubernetesManifestsTest.yaml(
                DOCKER.resolve("grafana/provisioning/datasources/prometheus.yaml")).get("datasources")).getFirst());
        assertThat(ds).containsEntry("type", "prometheus").containsEntry("url", "http://prometheus:9090")
                .containsEntry("uid", "prometheus");
    }

    @Test
    void prometheusLoadsTheAlertRulesThatComposeMountsBesideItsConfig() throws IOException {
        Map<String, Object> prom = KubernetesManifestsTest.yaml(DOCKER.resolve("prometheus/prometheus.yml"));
        List<String> ruleFiles = list(prom.get("rule_files"));
        assertThat(ruleFiles).as("rule_files").isNotEmpty();
        List<String> volumes = list(map(map(compose().get("services")).get("prometheus")).get("volumes"));
        for (String file : ruleFiles) {
            // Prometheus resolves a relative path against the directory of its configuration file
            String inContainer = Path.of("/etc/prometheus").resolve(file).normalize().toString();
            String mount = volumes.stream().filter(v -> v.split(":")[1].equals(inContainer)).findFirst()
                    .orElseThrow(() -> new AssertionError("compose mounts nothing at " + inContainer + ": " + volumes));
            assertThat(mount).endsWith(":ro");
            Path source = DOCKER.resolve(mount.split(":")[0]).normalize();
            assertThat(source).as("rule file mounted at %s", inContainer).isRegularFile();
            assertThat(source.getParent()).isEqualTo(DOCKER.resolve("prometheus"));
        }
        assertThat(ruleFiles).contains("alerts.yml");
    }

    @Test
    void everyDashboardTakesItsDataSourceFromAVariable() throws IOException {
        for (Path d : dashboards()) {
            Map<String, Object> dash = KubernetesManifestsTest.yaml(d);
            List<Map<String, Object>> variables = list(map(dash.get("templating")).get("list"));
            assertThat(variables).as("template variables of %s", d.getFileName())
                    .anySatisfy(v -> assertThat(v).containsEntry("name", "datasource")
                            .containsEntry("type", "datasource").containsEntry("query", "prometheus"));
            List<Object> refs = new ArrayList<>();
            collect(dash, "datasource", refs);
            assertThat(refs).as("datasource references in %s", d.getFileName()).isNotEmpty();
            for (Object ref : refs) {
                Object uid = ref instanceof Map<?, ?> m ? m.get("uid") : ref;
                assertThat(String.valueOf(uid)).as("a datasource in %s: %s", d.getFileName(), ref)
                        .matches(DATASOURCE_VARIABLE);
            }
            assertThat(Files.readString(d)).as("%s names no data source uid", d.getFileName())
                    .doesNotContainPattern("\"uid\"\\s*:\\s*\"prometheus\"");
        }
    }

    @Test
    void grafanaLoadsEveryDashboardInTheFolderAndTheyQueryContractMetrics() throws IOException, InterruptedException {
        Map<String, Object> grafana = map(map(compose().get("services")).get("grafana"));
        Map<String, Object> provider = map(list(KubernetesManifestsTest.yaml(
                DOCKER.resolve("grafana/provisioning/dashboards/framepipe.yaml")).get("providers")).getFirst());
        String path = (String) map(provider.get("options")).get("path");
        assertThat(list(grafana.get("volumes"))).contains("./grafana/dashboards:" + path + ":ro",
                "./grafana/provisioning:/etc/grafana/provisioning:ro");

        List<Path> dashboards = dashboards();
        assertThat(dashboards).isNotEmpty();
        Set<String> exposed = ExposedMetrics.names();
        for (Path d : dashboards) {
            Map<String, Object> dash = KubernetesManifestsTest.yaml(d); // JSON is YAML
            assertThat(dash.get("uid")).as("uid of %s", d).isNotNull();
            List<String> exprs = new ArrayList<>();
            collectExprs(dash, exprs);
            assertThat(exprs).as("queries in %s", d).isNotEmpty();
            for (String e : exprs) {
                Set<String> names = PromQl.metricNames(e);
                assertThat(names).as("metrics in %s: %s", d.getFileName(), e).isNotEmpty();
                for (String name : names) {
                    if (name.startsWith("pipeline_") || name.startsWith("framepipe_")) {
                        assertThat(CONTRACT).as("contract metric in %s: %s", d.getFileName(), e).contains(name);
                    } else {
                        assertThat(exposed).as("metric the server exposes, in %s: %s", d.getFileName(), e).contains(name);
                    }
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
                .as("connections").anyMatch(e -> e.contains("pipeline_connections_active"))
                .as("direct memory budget").anyMatch(e -> e.contains("pipeline_direct_memory_budget_bytes"))
                .as("connections refused by reason").anyMatch(e -> e.contains("by (reason) (rate(pipeline_connections_refused_total"))
                .as("JVM heap and non-heap").anyMatch(e -> e.contains("by (instance, area) (jvm_memory_used_bytes"))
                .as("JVM non-heap pools").anyMatch(e -> e.contains("jvm_memory_used_bytes")
                        && e.contains("area=\"nonheap\""))
                .as("JDK direct buffers").anyMatch(e -> e.contains("jvm_buffer_memory_used_bytes")
                        && e.contains("direct"))
                .as("GC pauses/s").anyMatch(e -> e.contains("rate(jvm_gc_pause_seconds_count"))
                .as("time in GC pauses").anyMatch(e -> e.contains("rate(jvm_gc_pause_seconds_sum"))
                .as("process CPU").anyMatch(e -> e.contains("rate(process_cpu_seconds_total"));
    }

    @Test
    void theImageExposesTheDefaultPortsAndRunsTheJvmAsPid1() throws IOException {
        String dockerfile = Files.readString(ProjectFiles.path("Dockerfile"));
        FramepipeConfig defaults = FramepipeConfig.defaults();
        assertThat(dockerfile).containsPattern("(?m)^EXPOSE " + defaults.framePort() + " " + defaults.httpPort() + "$");
        assertThat(dockerfile).containsPattern("(?m)^ENTRYPOINT \\[\"java\",")
                .contains("--add-modules=jdk.incubator.vector", "FRAMEPIPE_CONFIG=/etc/framepipe/framepipe.yaml",
                        "-XX:+UseG1GC -Xms16m -Xmx256m -XX:MaxDirectMemorySize=384m", "-XX:AOTCache=/opt/framepipe/framepipe.aot");
        assertThat(dockerfile).containsPattern("(?m)^USER \\d+:\\d+$");
    }

    @Test
    void composeGivesFramepipeTheOpenFilesBothPortsConnectionsNeed() throws IOException {
        Map<String, Object> framepipe = map(map(compose().get("services")).get("framepipe"));
        Map<String, Object> nofile = map(map(framepipe.get("ulimits")).get("nofile"));
        long soft = ((Number) nofile.get("soft")).longValue();
        long hard = ((Number) nofile.get("hard")).longValue();
        assertThat(soft).isLessThanOrEqualTo(hard);
        // The image's file holds the defaults; compose's environment overrides them.
        Map<String, String> env = new java.util.HashMap<>();
        map(framepipe.get("environment")).forEach((k, v) -> env.put(k, String.valueOf(v)));
        FramepipeConfig config = ConfigLoader.load(ProjectFiles.path("config", "framepipe.yaml"), env, Map.of());
        // The JVM raises its soft limit to the hard one; the soft one is checked so that a JVM
        // started with -XX:-MaxFDLimit would fit too.
        assertThat(soft).as("nofile for max-connections %d + http-max-connections %d + margin",
                config.maxConnections(), config.http().maxConnections())
                .isGreaterThanOrEqualTo(FileDescriptorBudget.required(config));
    }

    @Test
    void theImageLetsTheJvmRaiseItsOpenFileLimit() throws IOException {
        // Without it the JVM would keep the engine's soft limit (often 1024) and refuse to start.
        assertThat(Files.readString(ProjectFiles.path("Dockerfile"))).doesNotContain("-XX:-MaxFDLimit");
    }

    @SuppressWarnings("unchecked")
    private static void collectExprs(Object node, List<String> out) {
        List<Object> found = new ArrayList<>();
        collect(node, "expr", found);
        found.stream().filter(String.class::isInstance).map(String.class::cast).forEach(out::add);
    }

    /** Every value of {@code key} anywhere in a parsed JSON/YAML tree. */
    private static void collect(Object node, String key, List<Object> out) {
        if (node instanceof Map<?, ?> m) {
            if (m.containsKey(key)) {
                out.add(m.get(key));
            }
            m.values().forEach(v -> collect(v, key, out));
        } else if (node instanceof List<?> l) {
            l.forEach(v -> collect(v, key, out));
        }
    }

    private static List<Path> dashboards() throws IOException {
        try (Stream<Path> files = Files.list(DOCKER.resolve("grafana/dashboards"))) {
            return files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
    }

    /** A path under the repository's docker/ folder. */
    static Path docker(String first, String... more) {
        return DOCKER.resolve(Path.of(first, more));
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
