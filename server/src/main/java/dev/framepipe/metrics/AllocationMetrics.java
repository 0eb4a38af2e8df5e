package dev.framepipe.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Locale;

/**
 * {@code pipeline_heap_allocated_bytes_total{threads="io"|"worker"}}: heap bytes allocated by
 * the pipeline's own threads, read at scrape time (nothing is recorded on the hot path).
 * Divided by the rate of completed frames it gives heap bytes per frame.
 */
public final class AllocationMetrics implements MeterBinder {

    private final ThreadAllocations threads;

    public AllocationMetrics(ThreadAllocations threads) {
        this.threads = threads;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        for (ThreadAllocations.Group g : ThreadAllocations.Group.values()) {
            FunctionCounter.builder(MetricNames.HEAP_ALLOCATED, threads, t -> t.allocatedBytes(g))
                    .description("Heap bytes allocated by the pipeline's own threads")
                    .baseUnit("bytes")
                    .tag("threads", g.name().toLowerCase(Locale.ROOT))
                    .register(registry);
        }
    }
}
