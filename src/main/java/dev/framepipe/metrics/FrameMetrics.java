package dev.framepipe.metrics;

import dev.framepipe.protocol.ErrorCode;
import dev.framepipe.protocol.OpType;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Frames and bytes: what came in, what went out, how long it took, which errors. Every meter
 * is resolved once in {@link #bindTo} and kept in arrays indexed by {@link OpType} and
 * {@link ErrorCode}, so recording a frame builds no tags and allocates nothing.
 *
 * <pre>
 * pipeline_frames_received_total{kind}           complete frames decoded (and refused headers)
 * pipeline_frames_completed_total{kind,op,outcome} responses written
 * pipeline_errors_total{code}                    error responses by code
 * pipeline_received_bytes_total / _sent_bytes_total  bytes read from / written to frame sockets
 * pipeline_frame_duration_seconds{kind,op}       histogram, decode to response handed to the socket
 * </pre>
 */
public final class FrameMetrics implements MeterBinder {

    /** Bucket bounds of the duration histogram: bounded, from 25 µs to 10 s. */
    static final Duration[] DURATION_BUCKETS = {
        Duration.ofNanos(25_000), Duration.ofNanos(50_000), Duration.ofNanos(100_000), Duration.ofNanos(250_000),
        Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofNanos(2_500_000), Duration.ofMillis(5),
        Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100),
        Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofNanos(2_500_000_000L),
        Duration.ofSeconds(10)
    };

    private static final OpType[] TYPES = OpType.values();

    private final Counter[] received = new Counter[OpType.KIND_LABELS.length];
    private final Counter[] completedOk = new Counter[TYPES.length];
    private final Counter[] completedError = new Counter[TYPES.length];
    private final Timer[] duration = new Timer[TYPES.length];
    private final Counter[] errors = new Counter[ErrorCode.values().length];
    private Counter receivedBytes;
    private Counter sentBytes;

    @Override
    public void bindTo(MeterRegistry registry) {
        for (int k = 0; k < received.length; k++) {
            received[k] = Counter.builder("pipeline.frames.received")
                    .description("Complete frames decoded")
                    .tag("kind", OpType.KIND_LABELS[k])
                    .register(registry);
        }
        for (OpType t : TYPES) {
            completedOk[t.ordinal()] = completed(registry, t, "ok");
            completedError[t.ordinal()] = completed(registry, t, "error");
            duration[t.ordinal()] = Timer.builder("pipeline.frame.duration")
                    .description("Time from decode to response handed to the socket")
                    .tag("kind", t.kindLabel())
                    .tag("op", t.opLabel())
                    .serviceLevelObjectives(DURATION_BUCKETS)
                    .register(registry);
        }
        for (ErrorCode c : ErrorCode.values()) {
            errors[c.ordinal()] = Counter.builder("pipeline.errors")
                    .description("Error responses by code")
                    .tag("code", c.label())
                    .register(registry);
        }
        receivedBytes = Counter.builder("pipeline.received.bytes")
                .description("Bytes read from frame sockets")
                .baseUnit("bytes")
                .register(registry);
        sentBytes = Counter.builder("pipeline.sent.bytes")
                .description("Bytes written to frame sockets")
                .baseUnit("bytes")
                .register(registry);
    }

    private static Counter completed(MeterRegistry registry, OpType t, String outcome) {
        return Counter.builder("pipeline.frames.completed")
                .description("Responses written")
                .tag("kind", t.kindLabel())
                .tag("op", t.opLabel())
                .tag("outcome", outcome)
                .register(registry);
    }

    public void received(OpType type) {
        received[type.kindIndex()].increment();
    }

    /**
     * @param error the error answered, or null for a result
     */
    public void completed(OpType type, ErrorCode error, long durationNanos) {
        int i = type.ordinal();
        if (error == null) {
            completedOk[i].increment();
        } else {
            completedError[i].increment();
            errors[error.ordinal()].increment();
        }
        duration[i].record(durationNanos, TimeUnit.NANOSECONDS);
    }

    public void bytesReceived(long n) {
        receivedBytes.increment(n);
    }

    public void bytesSent(long n) {
        sentBytes.increment(n);
    }
}
