package dev.framepipe.metrics;

import dev.framepipe.pipeline.LaneCounters;
import dev.framepipe.pipeline.TransformPath;
import dev.framepipe.codec.OpType;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What recording one frame costs the I/O thread: everything the pipeline records per frame
 * (received by kind, bytes in, completed by kind/op/outcome with its duration bucket and the
 * clock read for it, bytes out, transform path) with {@link LaneCounters}, next to the same
 * work with Micrometer meters resolved once (Counters and a Timer with the same buckets), and
 * next to nothing. Frames cycle through four types so the branches are not all the same.
 *
 * <pre>bin/framepipe bench RecordingBench</pre>
 *
 * Relate ns/op to the I/O thread's time per frame at full load (docs/observability.md).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
public class RecordingBench {

    private static final OpType[] TYPES = {OpType.STATS, OpType.UPPER, OpType.PING, OpType.SCALE};
    private static final TransformPath[] PATHS = {null, TransformPath.IN_PLACE, null, TransformPath.IN_PLACE};

    private final LaneCounters counters = new LaneCounters();
    private int next;
    private long start;

    private Counter[] received;
    private Counter[] completed;
    private Timer[] durations;
    private Counter bytesIn;
    private Counter bytesOut;
    private Counter transforms;

    @Setup
    public void setUp() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Duration[] slos = new Duration[LaneCounters.BUCKET_NANOS.length];
        for (int i = 0; i < slos.length; i++) {
            slos[i] = Duration.ofNanos(LaneCounters.BUCKET_NANOS[i]);
        }
        received = new Counter[TYPES.length];
        completed = new Counter[TYPES.length];
        durations = new Timer[TYPES.length];
        for (int i = 0; i < TYPES.length; i++) {
            OpType t = TYPES[i];
            received[i] = Counter.builder("bench.received").tag("kind", t.kindLabel()).register(registry);
            completed[i] = Counter.builder("bench.completed").tags("kind", t.kindLabel(), "op", t.opLabel(),
                    "outcome", "ok").register(registry);
            durations[i] = Timer.builder("bench.duration").tags("kind", t.kindLabel(), "op", t.opLabel())
                    .serviceLevelObjectives(slos).register(registry);
        }
        bytesIn = Counter.builder("bench.in").register(registry);
        bytesOut = Counter.builder("bench.out").register(registry);
        transforms = Counter.builder("bench.transform").register(registry);
        start = System.nanoTime();
        if (!LaneCounters.RECORDING) {
            throw new IllegalStateException("run without -Dframepipe.metrics.recording=false");
        }
    }

    private int nextFrame() {
        return next++ & 3;
    }

    /** The frame selection alone: what the other two cost above it is the recording. */
    @Benchmark
    public int nothing() {
        return nextFrame();
    }

    /** The one clock read recording does per frame (for the duration), alone. */
    @Benchmark
    public long clockRead() {
        return System.nanoTime() - start;
    }

    @Benchmark
    public int laneCounters() {
        int k = nextFrame();
        OpType t = TYPES[k];
        counters.received(t);
        counters.bytesIn(80);
        TransformPath p = PATHS[k];
        if (p != null) {
            counters.transform(p);
        }
        counters.completed(t, null, System.nanoTime() - start);
        counters.bytesOut(64);
        return k;
    }

    @Benchmark
    public int micrometerCounterAndTimer() {
        int k = nextFrame();
        received[k].increment();
        bytesIn.increment(80);
        if (PATHS[k] != null) {
            transforms.increment();
        }
        completed[k].increment();
        durations[k].record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        bytesOut.increment(64);
        return k;
    }
}
