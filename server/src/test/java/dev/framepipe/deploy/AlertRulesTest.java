package dev.framepipe.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * docker/prometheus/alerts.yml: the alerts operations need are there, each tells an operator how
 * bad it is and what to do, waits a sensible time before firing, reads only metric names of the
 * contract or names a real server exposes, and has unit tests in alerts.test.yml that see it both
 * fire and stay silent. (promtool checks and runs them: docker/prometheus/rules-check.sh.)
 */
class AlertRulesTest {

    private static final Path DIR = ComposeFilesTest.docker("prometheus");
    private static final Pattern DURATION = Pattern.compile("(\\d+)([smh])");
    /** Fires on the first evaluation that sees one: a single INTERNAL error is a bug to report. */
    private static final Set<String> WITHOUT_FOR = Set.of("FramepipeInternalErrors");

    private static List<Map<String, Object>> rules;

    @BeforeAll
    static void load() throws IOException {
        rules = new ArrayList<>();
        for (Map<String, Object> group : KubernetesManifestsTest.<Map<String, Object>>list(
                KubernetesManifestsTest.yaml(DIR.resolve("alerts.yml")).get("groups"))) {
            rules.addAll(KubernetesManifestsTest.list(group.get("rules")));
        }
    }

    @Test
    void everyConditionOperationsAskedForHasAnAlert() {
        assertThat(rules).extracting(r -> r.get("alert")).containsExactlyInAnyOrder(
                "FramepipeFramesFailing", "FramepipeInternalErrors", "FramepipeSlowAnswers",
                "FramepipeBackpressureSustained", "FramepipeDirectMemoryNearBudget",
                "FramepipeConnectionsAtLimit", "FramepipeConnectionsRefused", "FramepipeNotReady",
                "FramepipeDown", "FramepipeVersionsMixed");
    }

    @Test
    void everyAlertHasASeverityASummaryADescriptionAndWaitsBeforeFiring() {
        for (Map<String, Object> r : rules) {
            String name = (String) r.get("alert");
            assertThat(KubernetesManifestsTest.map(r.get("labels")).get("severity")).as("severity of %s", name)
                    .isIn("warning", "critical");
            Map<String, Object> annotations = KubernetesManifestsTest.map(r.get("annotations"));
            assertThat((String) annotations.get("summary")).as("summary of %s", name).isNotBlank();
            assertThat((String) annotations.get("description")).as("description of %s", name).hasSizeGreaterThan(100);
            if (WITHOUT_FOR.contains(name)) {
                assertThat(r).as("%s fires at once", name).doesNotContainKey("for");
            } else {
                assertThat(duration((String) r.get("for"))).as("for: of %s", name)
                        .isBetween(Duration.ofMinutes(5), Duration.ofHours(1));
            }
        }
    }

    @Test
    void alertsReadOnlyContractMetricsOrMetricsTheServerExposes() throws IOException, InterruptedException {
        Set<String> exposed = ExposedMetrics.names();
        for (Map<String, Object> r : rules) {
            String expr = (String) r.get("expr");
            Set<String> names = PromQl.metricNames(expr);
            assertThat(names).as("metrics of %s", r.get("alert")).isNotEmpty();
            for (String name : names) {
                if (name.equals("up")) {
                    continue; // Prometheus' own series for every target
                }
                if (name.startsWith("pipeline_") || name.startsWith("framepipe_")) {
                    assertThat(ComposeFilesTest.CONTRACT).as("contract metric in %s: %s", r.get("alert"), expr).contains(name);
                } else {
                    assertThat(exposed).as("metric the server exposes, in %s: %s", r.get("alert"), expr).contains(name);
                }
            }
        }
    }

    @Test
    void theUnitTestsSeeEveryAlertFireAndStaySilent() throws IOException {
        Map<String, Object> tests = KubernetesManifestsTest.yaml(DIR.resolve("alerts.test.yml"));
        assertThat(KubernetesManifestsTest.<String>list(tests.get("rule_files"))).containsExactly("alerts.yml");
        Set<String> fired = new HashSet<>();
        Set<String> silent = new HashSet<>();
        for (Map<String, Object> test : KubernetesManifestsTest.<Map<String, Object>>list(tests.get("tests"))) {
            for (Map<String, Object> t : KubernetesManifestsTest.<Map<String, Object>>list(test.get("alert_rule_test"))) {
                Object expected = t.get("exp_alerts");
                boolean none = expected == null || ((List<?>) expected).isEmpty();
                (none ? silent : fired).add((String) t.get("alertname"));
            }
        }
        List<String> names = rules.stream().map(r -> (String) r.get("alert")).toList();
        assertThat(fired).as("alerts a test sees firing").containsAll(names);
        assertThat(silent).as("alerts a test sees silent").containsAll(names);
    }

    private static Duration duration(String text) {
        assertThat(text).isNotNull().matches("(\\d+[smh])+");
        Duration d = Duration.ZERO;
        Matcher m = DURATION.matcher(text);
        while (m.find()) {
            long n = Long.parseLong(m.group(1));
            d = d.plus(switch (m.group(2)) {
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
            });
        }
        return d;
    }
}
