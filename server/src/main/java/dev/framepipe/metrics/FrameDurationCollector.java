package dev.framepipe.metrics;

import dev.framepipe.pipeline.LaneCounters;
import dev.framepipe.codec.OpType;
import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.List;

/**
 * {@code pipeline_frame_duration_seconds{kind,op}}: a classic Prometheus histogram (bounded
 * buckets, 25 µs to 10 s) of the time from decode to the answer handed to the socket. The I/O
 * threads count into their own {@link LaneCounters}; this collector, registered on the
 * Prometheus registry behind Micrometer's, builds the snapshot when scraped. (A Micrometer Timer
 * with the same buckets cost a quarter of an I/O thread at this rate.)
 */
public final class FrameDurationCollector implements Collector {

    static final String NAME = MetricNames.FRAME_DURATION;
    private static final double[] BOUNDS;

    static {
        BOUNDS = new double[LaneCounters.BUCKETS];
        for (int i = 0; i < LaneCounters.BUCKET_NANOS.length; i++) {
            BOUNDS[i] = LaneCounters.BUCKET_NANOS[i] / 1e9;
        }
        BOUNDS[BOUNDS.length - 1] = Double.POSITIVE_INFINITY;
    }

    private final List<LaneCounters> lanes;

    public FrameDurationCollector(List<LaneCounters> lanes) {
        this.lanes = lanes;
    }

    @Override
    public String getPrometheusName() {
        return NAME;
    }

    @Override
    public MetricSnapshot collect() {
        HistogramSnapshot.Builder snapshot = HistogramSnapshot.builder()
                .name(NAME)
                .help("Time from decode to response handed to the socket")
                .unit(Unit.SECONDS);
        for (OpType t : OpType.values()) {
            long[] counts = new long[LaneCounters.BUCKETS];
            long sumNanos = 0;
            for (LaneCounters c : lanes) {
                for (int b = 0; b < counts.length; b++) {
                    counts[b] += c.bucket(t.ordinal(), b);
                }
                sumNanos += c.durationSumNanos(t.ordinal());
            }
            snapshot.dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder()
                    .labels(Labels.of("kind", t.kindLabel(), "op", t.opLabel()))
                    .classicHistogramBuckets(ClassicHistogramBuckets.of(BOUNDS, counts))
                    .sum(sumNanos / 1e9)
                    .build());
        }
        return snapshot.build();
    }
}
