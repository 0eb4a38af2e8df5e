package dev.framepipe.metrics;

import dev.framepipe.pipeline.LaneCounters;
import dev.framepipe.protocol.ErrorCode;
import dev.framepipe.codec.OpType;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * Frames and bytes, read at scrape time from every I/O thread's {@link LaneCounters}:
 *
 * <pre>
 * pipeline_frames_received_total{kind}             complete frames decoded (and refused headers)
 * pipeline_frames_completed_total{kind,op,outcome} responses written
 * pipeline_errors_total{code}                      error responses by code
 * pipeline_received_bytes_total                    bytes read from frame sockets
 * pipeline_sent_bytes_total                        bytes written to frame sockets
 * </pre>
 *
 * The duration histogram, {@code pipeline_frame_duration_seconds{kind,op}}, is
 * {@link FrameDurationCollector}.
 */
public final class FrameMetrics implements MeterBinder {

    private final List<LaneCounters> lanes;

    public FrameMetrics(List<LaneCounters> lanes) {
        this.lanes = lanes;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        for (int k = 0; k < OpType.KIND_LABELS.length; k++) {
            int kind = k;
            counter(registry, MetricNames.FRAMES_RECEIVED, "Complete frames decoded", c -> c.received(kind))
                    .tag("kind", OpType.KIND_LABELS[k]).register(registry);
        }
        for (OpType t : OpType.values()) {
            for (boolean ok : new boolean[] {true, false}) {
                counter(registry, MetricNames.FRAMES_COMPLETED, "Responses written", c -> c.completed(t.ordinal(), ok))
                        .tags("kind", t.kindLabel(), "op", t.opLabel(), "outcome", ok ? "ok" : "error")
                        .register(registry);
            }
        }
        for (ErrorCode code : ErrorCode.values()) {
            counter(registry, MetricNames.ERRORS, "Error responses by code", c -> c.errors(code.ordinal()))
                    .tag("code", code.label()).register(registry);
        }
        counter(registry, MetricNames.RECEIVED_BYTES, "Bytes read from frame sockets", LaneCounters::bytesIn)
                .baseUnit("bytes").register(registry);
        counter(registry, MetricNames.SENT_BYTES, "Bytes written to frame sockets", LaneCounters::bytesOut)
                .baseUnit("bytes").register(registry);
    }

    FunctionCounter.Builder<List<LaneCounters>> counter(MeterRegistry registry, String name, String help,
                                                            ToLongFunction<LaneCounters> read) {
        return FunctionCounter.builder(name, lanes, all -> sum(all, read)).description(help);
    }

    static double sum(List<LaneCounters> all, ToLongFunction<LaneCounters> read) {
        long total = 0;
        for (LaneCounters c : all) {
            total += read.applyAsLong(c);
        }
        return total;
    }
}
