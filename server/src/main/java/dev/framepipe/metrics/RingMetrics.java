package dev.framepipe.metrics;

import dev.framepipe.pipeline.LaneCounters;
import dev.framepipe.pipeline.Lane;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * Hand-off and back-pressure: each ring's capacity and occupancy
 * ({@code pipeline_ring_capacity{ring}}, {@code pipeline_ring_occupancy{ring}}; one ring per
 * I/O thread, so the label is bounded) and {@code pipeline_backpressure_pauses_total{reason}}.
 */
public final class RingMetrics implements MeterBinder {

    private final List<Lane> lanes;

    public RingMetrics(List<Lane> lanes) {
        this.lanes = lanes;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        for (Lane lane : lanes) {
            String ring = Integer.toString(lane.index());
            Gauge.builder(MetricNames.RING_CAPACITY, lane, Lane::capacity)
                    .description("Slots in the SPSC ring")
                    .tag("ring", ring)
                    .register(registry);
            Gauge.builder(MetricNames.RING_OCCUPANCY, lane, Lane::occupancy)
                    .description("Frames waiting in the SPSC ring")
                    .tag("ring", ring)
                    .register(registry);
        }
        pauses(registry, "ring_full", LaneCounters::pausesRingFull);
        pauses(registry, "unwritable", LaneCounters::pausesUnwritable);
    }

    private void pauses(MeterRegistry registry, String reason, ToLongFunction<LaneCounters> read) {
        FunctionCounter.builder(MetricNames.BACKPRESSURE_PAUSES, lanes, all -> {
            long n = 0;
            for (Lane l : all) {
                n += read.applyAsLong(l.counters());
            }
            return n;
        }).description("Times reading a socket was paused").tag("reason", reason).register(registry);
    }
}
