package dev.framepipe.deploy;

import dev.framepipe.testing.ProjectFiles;
import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.config.ConfigLoader;
import dev.framepipe.config.FramepipeConfig;
import dev.framepipe.server.FileDescriptorBudget;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The manifests in docker/k8s hold together: kinds and API versions a current cluster serves,
 * selectors that match the pods, probes and ports that match the service's settings, a grace
 * period that covers any preStop delay, drain-delay and the drain, a non-root read-only pod, a ConfigMap
 * framepipe itself accepts, and a PrometheusRule with exactly the rules of
 * docker/prometheus/alerts.yml. (No cluster here, so no kubectl dry run: a schema check runs in
 * CI with docker/k8s/schema-check.sh.)
 */
class KubernetesManifestsTest {

    private static final Path DIR = ProjectFiles.path("docker", "k8s");
    private static final Map<String, String> API_VERSIONS = Map.of(
            "ConfigMap", "v1",
            "Deployment", "apps/v1",
            "Service", "v1",
            "PodDisruptionBudget", "policy/v1",
            "HorizontalPodAutoscaler", "autoscaling/v2",
            "PodMonitor", "monitoring.coreos.com/v1",
            "PrometheusRule", "monitoring.coreos.com/v1");

    private static List<Map<String, Object>> docs;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void load() throws IOException {
        Map<String, Object> kustomization = yaml(DIR.resolve("kustomization.yaml"));
        List<String> resources = list(kustomization.get("resources"));
        try (Stream<Path> files = Files.list(DIR)) {
            assertThat(files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml")))
                    .as("every manifest is listed in kustomization.yaml").containsExactlyInAnyOrderElementsOf(resources);
        }
        docs = new ArrayList<>();
        for (String r : resources) {
            docs.add(yaml(DIR.resolve(r)));
        }
    }

    @Test
    void everyKindIsPresentOnceWithTheApiVersionClustersServe() {
        List<String> kinds = docs.stream().map(d -> (String) d.get("kind")).toList();
        assertThat(kinds).containsExactlyInAnyOrderElementsOf(API_VERSIONS.keySet());
        for (Map<String, Object> d : docs) {
            assertThat(d.get("apiVersion")).as("apiVersion of %s", d.get("kind")).isEqualTo(API_VERSIONS.get(d.get("kind")));
            assertThat(str(d, "metadata.name")).as("name of %s", d.get("kind")).matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
        }
    }

    @Test
    void theConfigMapIsAConfigurationFramepipeAcceptsAndRetiresConnections() throws IOException {
        FramepipeConfig config = config();
        assertThat(config.bindAddress()).isEqualTo("0.0.0.0");
        assertThat(config.maxConnectionAge()).as("connections must move to new replicas").isPositive();
        Map<String, Object> c = container();
        assertThat(env(c, "FRAMEPIPE_CONFIG")).isEqualTo("/etc/framepipe/framepipe.yaml");
        Map<String, Object> mount = volumeMount(c, "/etc/framepipe");
        Map<String, Object> volume = named(list(get(deployment(), "spec.template.spec.volumes")), (String) mount.get("name"));
        assertThat(str(volume, "configMap.name")).isEqualTo(str(doc("ConfigMap"), "metadata.name"));
    }

    @Test
    void probesAndPortsMatchTheServersSettings() throws IOException {
        FramepipeConfig config = config();
        Map<String, Object> c = container();
        assertThat(containerPort(c, "frames")).isEqualTo(config.framePort());
        assertThat(containerPort(c, "metrics")).isEqualTo(config.httpPort());
        assertThat(str(c, "readinessProbe.httpGet.path")).isEqualTo("/health/ready");
        assertThat(str(c, "livenessProbe.httpGet.path")).isEqualTo("/health/live");
        for (String probe : List.of("readinessProbe", "livenessProbe", "startupProbe")) {
            assertThat(get(c, probe + ".httpGet.port")).as(probe).isEqualTo("metrics");
        }
        for (Map<String, Object> p : KubernetesManifestsTest.<Map<String, Object>>list(get(doc("Service"), "spec.ports"))) {
            assertThat(containerPort(c, (String) p.get("targetPort"))).as("service port %s", p.get("name"))
                    .isEqualTo(p.get("port"));
        }
        Map<String, Object> endpoint = KubernetesManifestsTest.<Map<String, Object>>list(get(doc("PodMonitor"), "spec.podMetricsEndpoints")).getFirst();
        assertThat(endpoint.get("port")).isEqualTo("metrics");
        assertThat(endpoint.get("path")).isEqualTo("/metrics");
    }

    /**
     * The stop sequence fits the grace period: a preStop hook if any, then after SIGTERM
     * drain-delay (serving while not ready) and at most drain-timeout of drain, and a few seconds
     * for the JVM to exit; Kubernetes kills the pod when the period ends, cutting what is left.
     */
    @Test
    void theGracePeriodCoversPreStopDrainDelayAndDrainTimeout() throws IOException {
        FramepipeConfig config = config();
        long preStop = preStopSeconds(container());
        long delay = config.drainDelay().toSeconds();
        long drain = config.drainTimeout().toSeconds();
        long grace = ((Number) get(deployment(), "spec.template.spec.terminationGracePeriodSeconds")).longValue();
        assertThat(grace).as("terminationGracePeriodSeconds >= preStop %ds + drain-delay %ds + drain-timeout %ds + 5s to exit",
                preStop, delay, drain).isGreaterThanOrEqualTo(preStop + delay + drain + 5);
        // (Checked on the exact durations too: a fraction of a second is not lost to rounding down.)
        assertThat(Duration.ofSeconds(grace - preStop - 5)).isGreaterThanOrEqualTo(config.drainDelay().plus(config.drainTimeout()));
    }

    /**
     * Kubernetes takes a stopping pod out of the Service's endpoints when it starts terminating,
     * whatever its readiness, and every node's proxy follows a few seconds later: the pod must go on
     * accepting for that long after SIGTERM. The server does (drain-delay), so no preStop sleep is
     * needed; the delay also spans two failed readiness probes, so that a balancer which, like the
     * readiness probe, polls /health/ready sees the pod go before its port closes.
     */
    @Test
    void theServerGoesOnAcceptingWhileTheEndpointsCatchUp() throws IOException {
        FramepipeConfig config = config();
        Map<String, Object> c = container();
        long period = ((Number) get(c, "readinessProbe.periodSeconds")).longValue();
        long threshold = ((Number) get(c, "readinessProbe.failureThreshold")).longValue();
        long total = preStopSeconds(c) + config.drainDelay().toSeconds();
        assertThat(total).as("preStop + drain-delay: seconds of accepting after the pod starts terminating")
                .isGreaterThanOrEqualTo(5).isGreaterThanOrEqualTo(period * threshold);
        assertThat(config.drainTimeout()).as("drain-timeout bounds the drain itself").isPositive();
        assertThat(config.maxConnectionAge()).as("connections spread over new pods within about a minute")
                .isPositive().isLessThanOrEqualTo(Duration.ofSeconds(54)); // +10% jitter: at most ~1 min
    }

    /** Seconds a preStop hook delays SIGTERM: its sleep, or 0 without a hook. */
    private static long preStopSeconds(Map<String, Object> container) {
        Object hook = get(container, "lifecycle.preStop");
        if (hook == null) {
            return 0;
        }
        Object sleep = get(container, "lifecycle.preStop.sleep.seconds");
        if (sleep != null) {
            return ((Number) sleep).longValue();
        }
        List<String> command = list(get(container, "lifecycle.preStop.exec.command"));
        assertThat(command).as("a preStop hook this test can time: sleep N").hasSize(2).first().isEqualTo("sleep");
        return Long.parseLong(command.get(1));
    }

    /**
     * Kubernetes has no per-pod open-file limit: the container gets the runtime's default, whose
     * hard limit (which the JVM raises its soft limit to) is 524288 on containerd 2.x and recent Docker
     * with systemd, 1048576 on CRI-O and older containerd. Both ports' caps and the margin must fit
     * the lower one, and the ConfigMap states both caps.
     */
    @Test
    void bothPortsConnectionCapsFitTheRuntimesDefaultOpenFileLimit() throws IOException {
        FramepipeConfig config = config();
        String file = str(doc("ConfigMap"), "data.framepipe\\.yaml");
        assertThat(file).containsPattern("(?m)^max-connections: " + config.maxConnections() + "$")
                .containsPattern("(?m)^http-max-connections: " + config.http().maxConnections() + "$");
        assertThat(FileDescriptorBudget.required(config)).isLessThanOrEqualTo(524_288);
        assertThat(config.http().maxConnections()).as("the HTTP port serves probes and Prometheus")
                .isLessThan(config.maxConnections() / 10);
    }

    @Test
    void everySelectorMatchesThePodsLabels() {
        Map<String, Object> podLabels = map(get(deployment(), "spec.template.metadata.labels"));
        assertThat(podLabels).containsAllEntriesOf(map(get(deployment(), "spec.selector.matchLabels")));
        assertThat(podLabels).containsAllEntriesOf(map(get(doc("Service"), "spec.selector")));
        assertThat(podLabels).containsAllEntriesOf(map(get(doc("PodDisruptionBudget"), "spec.selector.matchLabels")));
        assertThat(podLabels).containsAllEntriesOf(map(get(doc("PodMonitor"), "spec.selector.matchLabels")));
        Map<String, Object> target = map(get(doc("HorizontalPodAutoscaler"), "spec.scaleTargetRef"));
        assertThat(target).containsEntry("kind", "Deployment").containsEntry("apiVersion", "apps/v1")
                .containsEntry("name", str(deployment(), "metadata.name"));
    }

    @Test
    void scalingKeepsAtLeastOnePodServingThroughDisruptions() {
        Map<String, Object> hpa = doc("HorizontalPodAutoscaler");
        int min = ((Number) get(hpa, "spec.minReplicas")).intValue();
        int max = ((Number) get(hpa, "spec.maxReplicas")).intValue();
        assertThat(min).isGreaterThanOrEqualTo(2).isLessThanOrEqualTo(max);
        assertThat(get(deployment(), "spec.replicas")).as("the HPA owns the replica count").isNull();
        assertThat(((Number) get(doc("PodDisruptionBudget"), "spec.maxUnavailable")).intValue()).isLessThan(min);
        assertThat(get(deployment(), "spec.strategy.rollingUpdate.maxUnavailable")).isEqualTo(0);
        Map<String, Object> resources = map(get(container(), "resources"));
        assertThat(str(resources, "requests.cpu")).as("CPU utilization needs a request").isNotBlank();
        assertThat(str(resources, "limits.memory")).as("a memory limit bounds the pod").isNotBlank();
    }

    /**
     * The pod's memory matches what the image's JVM options allow (docs/footprint.md): the limit
     * holds the heap, the direct memory and what the JVM needs beside them; the request is no
     * less than what a pod holds idle (the smoke test's bound) and no more than the limit. The
     * launcher sizes the service as the image does.
     */
    @Test
    void theMemoryRequestAndLimitFitTheImagesHeapAndDirectMemory() throws IOException {
        String dockerfile = Files.readString(ProjectFiles.path("Dockerfile"));
        long heap = mibFlag(dockerfile, "-Xmx(\\d+)m");
        long direct = mibFlag(dockerfile, "-XX:MaxDirectMemorySize=(\\d+)m");
        assertThat(dockerfile).contains("-XX:+UseG1GC");
        Matcher serveFlags = Pattern.compile("(?m)^SERVE_FLAGS=\\(([^)]*)\\)").matcher(Files.readString(ProjectFiles.path("bin", "framepipe")));
        assertThat(serveFlags.find()).as("bin/framepipe's SERVE_FLAGS").isTrue();
        assertThat(mibFlag(serveFlags.group(1), "-Xmx(\\d+)m")).as("launcher and image: heap").isEqualTo(heap);
        assertThat(mibFlag(serveFlags.group(1), "-XX:MaxDirectMemorySize=(\\d+)m")).as("launcher and image: direct memory")
                .isEqualTo(direct);

        Map<String, Object> resources = map(get(container(), "resources"));
        long limit = mib(str(resources, "limits.memory"));
        long request = mib(str(resources, "requests.memory"));
        // beside heap and direct memory: metaspace and the AOT cache's classes (~60 MiB), code cache
        // (~40 MiB used), thread stacks, GC and native structures; 256 MiB leaves a margin for them
        assertThat(limit).as("limit vs heap %d + direct %d MiB", heap, direct).isGreaterThanOrEqualTo(heap + direct + 256);
        assertThat(request).as("request").isBetween(256L, limit);
        // the smoke test runs the image under the manifests' limit
        assertThat(Files.readString(ProjectFiles.path("docker", "smoke-test.sh")))
                .containsPattern("(?m)^MEMORY=" + (limit % 1024 == 0 ? (limit / 1024) + "g" : limit + "m") + "\\b");
    }

    private static long mibFlag(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertThat(m.find()).as("%s in %s", regex, text.length() > 200 ? "the file" : text).isTrue();
        return Long.parseLong(m.group(1));
    }

    /** A Kubernetes memory quantity in MiB: 512Mi, 1Gi. */
    private static long mib(String quantity) {
        Matcher m = Pattern.compile("(\\d+)(Mi|Gi)").matcher(quantity);
        assertThat(m.matches()).as("memory quantity %s in Mi or Gi", quantity).isTrue();
        return Long.parseLong(m.group(1)) * (m.group(2).equals("Gi") ? 1024 : 1);
    }

    @Test
    void thePodRunsAsTheImagesNonRootUserWithAReadOnlyRootFileSystem() throws IOException {
        Map<String, Object> pod = map(get(deployment(), "spec.template.spec.securityContext"));
        assertThat(pod.get("runAsNonRoot")).isEqualTo(true);
        Matcher user = Pattern.compile("(?m)^USER (\\d+)").matcher(Files.readString(ProjectFiles.path("Dockerfile")));
        assertThat(user.find()).as("Dockerfile has a numeric USER").isTrue();
        assertThat(pod.get("runAsUser")).isEqualTo(Integer.parseInt(user.group(1))).isNotEqualTo(0);
        Map<String, Object> c = container();
        assertThat(get(c, "securityContext.readOnlyRootFilesystem")).isEqualTo(true);
        assertThat(get(c, "securityContext.allowPrivilegeEscalation")).isEqualTo(false);
        assertThat(list(get(c, "securityContext.capabilities.drop"))).containsExactly("ALL");
        Map<String, Object> tmpMount = volumeMount(c, "/tmp"); // Netty's native library is unpacked there
        Map<String, Object> volume = named(list(get(deployment(), "spec.template.spec.volumes")), (String) tmpMount.get("name"));
        assertThat(volume).containsKey("emptyDir");
    }

    @Test
    void thePrometheusRuleCarriesExactlyTheAlertRulesPrometheusLoads() throws IOException {
        // Regenerate with docker/prometheus/rules-check.sh --update-k8s after editing alerts.yml.
        Object groups = yaml(DIR.resolveSibling("prometheus").resolve("alerts.yml")).get("groups");
        assertThat(list(groups)).isNotEmpty();
        assertThat(get(doc("PrometheusRule"), "spec.groups"))
                .as("spec.groups of docker/k8s/prometheusrule.yaml against docker/prometheus/alerts.yml "
                        + "(docker/prometheus/rules-check.sh --update-k8s rewrites it)")
                .isEqualTo(groups);
        assertThat(map(get(doc("PrometheusRule"), "metadata.labels"))).containsEntry("app.kubernetes.io/name", "framepipe");
    }

    // ---- helpers ----

    private static FramepipeConfig config() throws IOException {
        Path file = tmp.resolve("framepipe.yaml");
        Files.writeString(file, str(doc("ConfigMap"), "data.framepipe\\.yaml"));
        return ConfigLoader.load(file, Map.of(), Map.of());
    }

    private static Map<String, Object> deployment() {
        return doc("Deployment");
    }

    private static Map<String, Object> container() {
        List<Map<String, Object>> containers = list(get(deployment(), "spec.template.spec.containers"));
        assertThat(containers).hasSize(1);
        return containers.getFirst();
    }

    private static Map<String, Object> doc(String kind) {
        return docs.stream().filter(d -> kind.equals(d.get("kind"))).findFirst().orElseThrow();
    }

    private static int containerPort(Map<String, Object> container, String name) {
        return ((Number) named(list(container.get("ports")), name).get("containerPort")).intValue();
    }

    private static String env(Map<String, Object> container, String name) {
        return (String) named(list(container.get("env")), name).get("value");
    }

    private static Map<String, Object> volumeMount(Map<String, Object> container, String path) {
        List<Map<String, Object>> mounts = list(container.get("volumeMounts"));
        return mounts.stream().filter(m -> path.equals(m.get("mountPath"))).findFirst()
                .orElseThrow(() -> new AssertionError("no volume mounted at " + path));
    }

    private static Map<String, Object> named(List<Map<String, Object>> items, String name) {
        return items.stream().filter(i -> name.equals(i.get("name"))).findFirst()
                .orElseThrow(() -> new AssertionError("no item named " + name + " in " + items));
    }

    /** Follows a dotted path ({@code \\.} for a dot inside a key); null when absent. */
    private static Object get(Map<String, Object> root, String path) {
        Object node = root;
        for (String key : path.split("(?<!\\\\)\\.")) {
            if (!(node instanceof Map<?, ?> m)) {
                return null;
            }
            node = m.get(key.replace("\\.", "."));
        }
        return node;
    }

    private static String str(Map<String, Object> root, String path) {
        Object v = get(root, path);
        assertThat(v).as(path).isNotNull();
        return String.valueOf(v);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        assertThat(o).isInstanceOf(Map.class);
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static <T> List<T> list(Object o) {
        assertThat(o).isInstanceOf(List.class);
        return (List<T>) o;
    }

    static Map<String, Object> yaml(Path file) throws IOException {
        return map(new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file)));
    }
}
