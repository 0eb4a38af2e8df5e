package dev.framepipe.metrics;

import dev.framepipe.BuildInfo;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * {@code framepipe_build_info{version, revision, java}}, always 1: which build runs, for joins
 * in dashboards ({@code * on (instance) group_left(version) framepipe_build_info}) and for
 * alerts on a version change during a rollout. One series per process.
 */
final class BuildInfoMetrics implements MeterBinder {

    private final BuildInfo build;

    BuildInfoMetrics(BuildInfo build) {
        this.build = build;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        Gauge.builder(MetricNames.BUILD_INFO, () -> 1)
                .description("Which framepipe build runs (version, git revision, Java runtime); always 1")
                .tag("version", build.version())
                .tag("revision", build.revision())
                .tag("java", BuildInfo.java())
                .strongReference(true)
                .register(registry);
    }
}
