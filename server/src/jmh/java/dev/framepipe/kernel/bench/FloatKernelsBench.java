package dev.framepipe.kernel.bench;

import dev.framepipe.kernel.FloatKernels;
import dev.framepipe.kernel.ScalarFloatKernels;
import dev.framepipe.kernel.StatsAccumulator;
import dev.framepipe.kernel.vector.StatsVariants;
import dev.framepipe.kernel.vector.VectorKernels;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
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

/**
 * STATS and SCALE: vector kernel vs scalar twin vs a plain vectorized read of the same bytes,
 * over off-heap memory addressed the way the pipeline does it (one global segment, offset =
 * native address, 4 bytes past a 64-byte boundary like a frame payload).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class FloatKernelsBench {

    static final MemorySegment GLOBAL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    static final VectorSpecies<Long> LS = LongVector.SPECIES_PREFERRED;

    @Param({"16", "1024", "65536", "1048576", "16777216"})
    int floats;

    Arena arena;
    long address;
    final StatsAccumulator acc = new StatsAccumulator();
    final FloatKernels vector = VectorKernels.floats();
    final FloatKernels scalar = new ScalarFloatKernels();

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        MemorySegment seg = arena.allocate(4L * floats + 128, 64);
        SplittableRandom r = new SplittableRandom(42);
        for (int i = 0; i < floats; i++) {
            seg.set(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4 + 4L * i,
                    (float) (1000 + r.nextGaussian()));
        }
        address = seg.address() + 4;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public double statsVector() {
        acc.reset();
        vector.stats(GLOBAL, address, floats, acc);
        return acc.variance();
    }

    /** The previous vector kernel (two passes per block), for before/after in the same run. */
    @Benchmark
    public double statsVectorTwoPass() {
        acc.reset();
        StatsVariants.TWO_PASS.stats(GLOBAL, address, floats, acc);
        return acc.variance();
    }

    /** One pass with float-lane MIN/MAX (the step before the int min/max). */
    @Benchmark
    public double statsVectorOnePassFloatMinMax() {
        acc.reset();
        StatsVariants.ONE_PASS_FLOAT_MINMAX.stats(GLOBAL, address, floats, acc);
        return acc.variance();
    }

    /** Two passes, but with the int min/max: how much of the gain is the single pass. */
    @Benchmark
    public double statsVectorTwoPassIntMinMax() {
        acc.reset();
        StatsVariants.TWO_PASS_INT_MINMAX.stats(GLOBAL, address, floats, acc);
        return acc.variance();
    }

    @Benchmark
    public double statsScalar() {
        acc.reset();
        scalar.stats(GLOBAL, address, floats, acc);
        return acc.variance();
    }

    /** Memory-read baseline: vectorized sum of the same bytes as longs. */
    @Benchmark
    public long readBaseline() {
        long bytes = 4L * floats;
        long end = address + bytes - bytes % (LS.length() * 8L);
        LongVector s = LongVector.zero(LS);
        LongVector t = s;
        long p = address;
        long step = LS.length() * 8L;
        for (; p + step <= end; p += 2 * step) {
            s = s.add(LongVector.fromMemorySegment(LS, GLOBAL, p, ByteOrder.LITTLE_ENDIAN));
            t = t.add(LongVector.fromMemorySegment(LS, GLOBAL, p + step, ByteOrder.LITTLE_ENDIAN));
        }
        long sum = s.add(t).reduceLanes(VectorOperators.ADD);
        for (; p < address + bytes; p++) {
            sum += GLOBAL.get(ValueLayout.JAVA_BYTE, p);
        }
        return sum;
    }

    @Benchmark
    public void scaleVector() {
        vector.scale(GLOBAL, address, floats, 1.0f, 0.0f); // fma cost does not depend on a, b
    }

    @Benchmark
    public void scaleScalar() {
        scalar.scale(GLOBAL, address, floats, 1.0f, 0.0f);
    }
}
