package dev.framepipe.kernel.bench;

import dev.framepipe.kernel.FloatKernels;
import dev.framepipe.kernel.ParallelFloatKernels;
import dev.framepipe.kernel.StatsAccumulator;
import dev.framepipe.kernel.vector.VectorKernels;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/** Where does splitting STATS across a 2-worker ForkJoinPool start to pay? */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class ParallelFloatKernelsBench {

    static final MemorySegment GLOBAL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    @Param({"16384", "65536", "262144", "1048576", "4194304"})
    int floats;

    /** Leaf size in floats; Integer.MAX_VALUE means single-threaded. */
    @Param({"2147483647", "16384", "65536", "262144"})
    int threshold;

    Arena arena;
    long address;
    ForkJoinPool pool;
    final FloatKernels k = VectorKernels.floats();

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        MemorySegment seg = arena.allocate(4L * floats + 64, 64);
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < floats; i++) {
            seg.set(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4L * i, (float) r.nextGaussian());
        }
        address = seg.address();
        pool = new ForkJoinPool(2);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.shutdownNow();
        arena.close();
    }

    @Benchmark
    public double stats() {
        StatsAccumulator acc = new StatsAccumulator();
        ParallelFloatKernels.statsParallel(k, pool, GLOBAL, address, floats, threshold, acc);
        return acc.variance();
    }
}
