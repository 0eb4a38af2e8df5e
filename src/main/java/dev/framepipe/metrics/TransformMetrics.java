package dev.framepipe.metrics;

import dev.framepipe.pipeline.TransformPath;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

/** {@code pipeline_transform_total{path}}: how SCALE, UPPER and LOWER made their answers. */
public final class TransformMetrics implements MeterBinder {

    private final Counter[] byPath = new Counter[TransformPath.values().length];

    @Override
    public void bindTo(MeterRegistry registry) {
        for (TransformPath p : TransformPath.values()) {
            byPath[p.ordinal()] = Counter.builder("pipeline.transform")
                    .description("Transforms by how they produced their result")
                    .tag("path", p.label())
                    .register(registry);
        }
    }

    public void record(TransformPath path) {
        byPath[path.ordinal()].increment();
    }
}
