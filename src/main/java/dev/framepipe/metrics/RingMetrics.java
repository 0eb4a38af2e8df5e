package dev.framepipe.metrics;

import dev.framepipe.pipeline.Lane;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.List;

/**
 * Hand-off and back-pressure: each ring's capacity and occupancy
 * ({@code pipeline_ring_capacity{ring}}, {@code pipeline_ring_occupancy{ring}}; one ring per
 * I/O thread, so the label is bounded) and {@code pipeline_backpressure_pauses_total{reason}}.
 */
public final class RingMetrics implements MeterBinder {

    private final List<Lane> lanes;
    private Counter ringFullPauses;
    private Counter unwritablePauses;

    public RingMetrics(List<Lane> lanes) {
        this.lanes = lanes;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        for (Lane lane : lanes) {
            String ring = Integer.toString(lane.index());
            Gauge.builder("pipeline.ring.capacity", lane, Lane::capacity)
                    .description("Slots in the SPSC ring")
                    .tag("ring", ring)
                    .register(registry);
            Gauge.builder("pipeline.ring.occupancy", lane, Lane::occupancy)
                    .description("Frames waiting in the SPSC ring")
                    .tag("ring", ring)
                    .register(registry);
        }
        ringFullPauses = pauses(registry, "ring_full");
        unwritablePauses = pauses(registry, "unwritable");
    }

    private static Counter pauses(MeterRegistry registry, String reason) {
        return Counter.builder("pipeline.backpressure.pauses")
                .description("Times reading a socket was paused")
                .tag("reason", reason)
                .register(registry);
    }

    public void pausedRingFull() {
        ringFullPauses.increment();
    }

    public void pausedUnwritable() {
        unwritablePauses.increment();
    }
}
