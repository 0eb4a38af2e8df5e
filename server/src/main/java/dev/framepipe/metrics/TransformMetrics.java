package dev.framepipe.metrics;

import dev.framepipe.pipeline.LaneCounters;
import dev.framepipe.pipeline.TransformPath;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.List;

/** {@code pipeline_transform_total{path}}: how SCALE, UPPER and LOWER made their answers. */
public final class TransformMetrics implements MeterBinder {

    private final List<LaneCounters> lanes;

    public TransformMetrics(List<LaneCounters> lanes) {
        this.lanes = lanes;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        for (TransformPath p : TransformPath.values()) {
            FunctionCounter.builder(MetricNames.TRANSFORMS, lanes,
                            all -> FrameMetrics.sum(all, c -> c.transforms(p.ordinal())))
                    .description("Transforms by how they produced their result")
                    .tag("path", p.label())
                    .register(registry);
        }
    }
}
