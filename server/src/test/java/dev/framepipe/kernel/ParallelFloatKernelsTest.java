package dev.framepipe.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveTask;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

@ExtendWith(Impls.VectorCallCheck.class)
class ParallelFloatKernelsTest {

    static ForkJoinPool pool;

    @BeforeAll
    static void startPool() {
        pool = new ForkJoinPool(3);
    }

    @AfterAll
    static void stopPool() {
        pool.shutdownNow();
    }

    static List<Impls.Named<FloatKernels>> impls() {
        return Impls.floats();
    }

    @ParameterizedTest
    @MethodSource("impls")
    void parallelStatsMeetsTheBoundsForManySizesAndThresholds(Impls.Named<FloatKernels> k) {
        int[] thresholds = {1, 2048, 5000, 100_000};
        for (int iter = 0; iter < 40; iter++) {
            long seed = 31_000L + iter;
            Random r = new Random(seed);
            FloatKernelsTest.Dist d = FloatKernelsTest.Dist.values()[iter % FloatKernelsTest.Dist.values().length];
            int n = iter < 5 ? iter * 2048 + 1 : r.nextInt(200_000);
            float[] xs = FloatKernelsTest.values(d, n, r);
            int threshold = thresholds[iter % thresholds.length];
            try (Arena arena = Arena.ofShared()) {
                Impls.Placed p = new Impls.Placed(arena, FloatKernelsTest.bytesOf(xs), r.nextInt(Impls.ALIGNMENTS));
                StatsAccumulator out = new StatsAccumulator();
                Pieces pieces = new Pieces(k.impl());
                ParallelFloatKernels.statsParallel(pieces, pool, p.seg, p.offset, n, threshold, out);
                String ctx = k + " seed=" + seed + " dist=" + d + " n=" + n + " threshold=" + threshold;
                FloatKernelsTest.assertStats(out, xs, ctx);
                // The split really happened: pieces of at most max(threshold, one block), as many
                // as that takes, together every float once (the exact result above is the check
                // that none was counted twice or missed).
                int most = Math.max(threshold, ScalarFloatKernels.BLOCK);
                assertThat(pieces.largest.get()).as(ctx + " largest piece").isLessThanOrEqualTo(most);
                assertThat(pieces.floats.get()).as(ctx + " floats in all pieces").isEqualTo(n);
                assertThat(pieces.calls.get()).as(ctx + " pieces").isGreaterThanOrEqualTo(Math.max(1, (n + most - 1) / most));
            }
        }
    }

    /** Records the pieces a split hands to the kernels (from any worker thread). */
    private static final class Pieces implements FloatKernels {
        final FloatKernels k;
        final AtomicInteger calls = new AtomicInteger();
        final AtomicLong floats = new AtomicLong();
        final AtomicInteger largest = new AtomicInteger();

        Pieces(FloatKernels k) {
            this.k = k;
        }

        @Override
        public void stats(MemorySegment segment, long offset, int count, StatsAccumulator acc) {
            calls.incrementAndGet();
            floats.addAndGet(count);
            largest.accumulateAndGet(count, Math::max);
            k.stats(segment, offset, count, acc);
        }

        @Override
        public void scale(MemorySegment segment, long offset, int count, float a, float b) {
            throw new AssertionError("not SCALE");
        }
    }

    @ParameterizedTest
    @MethodSource("impls")
    void parallelStatsCalledFromInsideAWorkerHelpsAndCompletes(Impls.Named<FloatKernels> k) throws Exception {
        Random r = new Random(8);
        int n = 300_000;
        float[] xs = FloatKernelsTest.values(FloatKernelsTest.Dist.LARGE_MEAN_SMALL_SPREAD, n, r);
        try (Arena arena = Arena.ofShared()) {
            Impls.Placed p = new Impls.Placed(arena, FloatKernelsTest.bytesOf(xs), 5);
            // every worker of the pool runs a nested parallel STATS at once: no deadlock
            List<RecursiveTask<StatsAccumulator>> outer = new java.util.ArrayList<>();
            for (int i = 0; i < 6; i++) {
                outer.add(new RecursiveTask<>() {
                    @Override
                    protected StatsAccumulator compute() {
                        StatsAccumulator acc = new StatsAccumulator();
                        ParallelFloatKernels.statsParallel(k.impl(), pool, p.seg, p.offset, n, 4096, acc);
                        return acc;
                    }
                });
            }
            outer.forEach(pool::execute);
            for (RecursiveTask<StatsAccumulator> t : outer) {
                FloatKernelsTest.assertStats(t.get(30, java.util.concurrent.TimeUnit.SECONDS), xs, k + " nested");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("impls")
    void parallelScaleEqualsFmaForEveryElement(Impls.Named<FloatKernels> k) {
        for (int iter = 0; iter < 10; iter++) {
            long seed = 41_000L + iter;
            Random r = new Random(seed);
            int n = r.nextInt(150_000);
            float[] xs = FloatKernelsTest.values(FloatKernelsTest.Dist.MIXED_MAGNITUDES, n, r);
            float a = (float) r.nextGaussian();
            float b = (float) r.nextGaussian();
            try (Arena arena = Arena.ofShared()) {
                Impls.Placed p = new Impls.Placed(arena, FloatKernelsTest.bytesOf(xs), r.nextInt(Impls.ALIGNMENTS));
                ParallelFloatKernels.scaleParallel(k.impl(), pool, p.seg, p.offset, n, 1 + r.nextInt(20_000), a, b);
                ByteBuffer out = ByteBuffer.wrap(p.data()).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < n; i++) {
                    assertThat(Float.floatToIntBits(out.getFloat(4 * i))).as(k + " seed=" + seed + " i=" + i)
                            .isEqualTo(Float.floatToIntBits(Math.fma(a, xs[i], b)));
                }
                assertThat(p.guardsIntact()).as(k + " seed=" + seed).isTrue();
            }
        }
    }
}
