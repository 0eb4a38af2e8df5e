package dev.framepipe.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.kernel.reference.ReferenceStats;
import dev.framepipe.kernel.vector.VectorPaths;
import dev.framepipe.kernel.vector.VectorPaths.Op;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Random;
import java.util.function.IntFunction;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * STATS and SCALE of every implementation against exact references and the protocol's bounds,
 * on the memory the pipeline gives them (pooled direct buffers, {@link Impls.Placed}); every
 * call of a vector kernel is checked to have run its vector code.
 */
@ExtendWith(Impls.VectorCallCheck.class)
class FloatKernelsTest {

    static List<Impls.Named<FloatKernels>> impls() {
        return Impls.floats();
    }

    /** Value distributions that stress different parts of STATS. */
    enum Dist {
        UNIFORM, LARGE_MEAN_SMALL_SPREAD, MIXED_MAGNITUDES, DENORMALS_AND_ZEROS, CANCELLING, WITH_NAN,
        WITH_POS_INF, WITH_BOTH_INF, CONSTANT
    }

    static float[] values(Dist d, int n, Random r) {
        float[] xs = new float[n];
        float base = (float) (r.nextDouble() * 2e4 - 1e4);
        for (int i = 0; i < n; i++) {
            xs[i] = switch (d) {
                case UNIFORM, WITH_NAN, WITH_POS_INF, WITH_BOTH_INF -> (float) (r.nextDouble() * 2 - 1);
                case LARGE_MEAN_SMALL_SPREAD -> 1.0e4f + (float) (r.nextDouble() * 0.01);
                case MIXED_MAGNITUDES -> (float) ((r.nextBoolean() ? 1 : -1) * Math.pow(10, r.nextDouble() * 60 - 30));
                case DENORMALS_AND_ZEROS -> switch (r.nextInt(4)) {
                    case 0 -> -0.0f;
                    case 1 -> 0.0f;
                    case 2 -> Float.intBitsToFloat(r.nextInt(0x007FFFFF) + 1);
                    default -> -Float.MIN_VALUE * r.nextInt(1000);
                };
                case CANCELLING -> (i % 2 == 0 ? 1 : -1) * (float) (1e30 * (1 + r.nextDouble()));
                case CONSTANT -> base;
            };
        }
        if (n > 0) {
            switch (d) {
                case WITH_NAN -> xs[r.nextInt(n)] = Float.NaN;
                case WITH_POS_INF -> xs[r.nextInt(n)] = Float.POSITIVE_INFINITY;
                case WITH_BOTH_INF -> {
                    xs[r.nextInt(n)] = Float.POSITIVE_INFINITY;
                    xs[r.nextInt(n)] = Float.NEGATIVE_INFINITY;
                }
                default -> { }
            }
        }
        return xs;
    }

    static byte[] bytesOf(float[] xs) {
        ByteBuffer bb = ByteBuffer.allocate(xs.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : xs) {
            bb.putFloat(x);
        }
        return bb.array();
    }

    /** Asserts the protocol's STATS rules for {@code acc} against the exact reference. */
    static void assertStats(StatsAccumulator acc, float[] xs, String ctx) {
        ReferenceStats ref = ReferenceStats.of(xs);
        assertThat(acc.count()).as(ctx + " count").isEqualTo(xs.length);
        if (xs.length == 0) {
            assertThat(acc.sum()).as(ctx).isEqualTo(0.0);
            assertThat(acc.min()).as(ctx).isNaN();
            assertThat(acc.max()).as(ctx).isNaN();
            assertThat(acc.mean()).as(ctx).isNaN();
            assertThat(acc.variance()).as(ctx).isNaN();
            return;
        }
        if (ref.anyNaN) {
            assertThat(acc.sum()).as(ctx + " sum").isNaN();
            assertThat(acc.min()).as(ctx + " min").isNaN();
            assertThat(acc.max()).as(ctx + " max").isNaN();
            assertThat(acc.mean()).as(ctx + " mean").isNaN();
            assertThat(acc.variance()).as(ctx + " variance").isNaN();
            return;
        }
        // min/max exact, including the sign of zero
        assertThat(Double.doubleToRawLongBits(acc.min())).as(ctx + " min " + acc.min() + " vs " + ref.min)
                .isEqualTo(Double.doubleToRawLongBits(ref.min));
        assertThat(Double.doubleToRawLongBits(acc.max())).as(ctx + " max " + acc.max() + " vs " + ref.max)
                .isEqualTo(Double.doubleToRawLongBits(ref.max));
        if (!ref.finite()) {
            assertThat(Double.valueOf(acc.sum())).as(ctx + " sum").isEqualTo(Double.valueOf(ref.specialSum()));
            // mean = sum / count: +inf, -inf or NaN as the exact rules give the sum
            assertThat(Double.valueOf(acc.mean())).as(ctx + " mean")
                    .isEqualTo(Double.valueOf(ref.specialSum() / xs.length));
            assertThat(acc.variance()).as(ctx + " variance").isNaN();
            return;
        }
        double s = ref.exactSum.doubleValue();
        assertThat(Math.abs(acc.sum() - s)).as(ctx + " sum " + acc.sum() + " vs " + s)
                .isLessThanOrEqualTo(1e-9 * ref.sumAbs);
        // The mean against the exact one: the sum's bound divided by n, plus the roundings of
        // the division and of the exact mean to a double; and, as the protocol defines it, sum / count.
        assertThat(Math.abs(acc.mean() - ref.exactMean)).as(ctx + " mean " + acc.mean() + " vs " + ref.exactMean)
                .isLessThanOrEqualTo(1e-9 * ref.sumAbs / xs.length + Math.ulp(ref.exactMean));
        assertThat(acc.mean()).as(ctx + " mean = sum / count").isEqualTo(acc.sum() / xs.length);
        double v = ref.exactVariance;
        double bound = 1e-9 * v + 1e-15 * ref.exactMean * ref.exactMean;
        assertThat(Math.abs(acc.variance() - v)).as(ctx + " variance " + acc.variance() + " vs " + v)
                .isLessThanOrEqualTo(bound);
    }

    private static void checkStats(FloatKernels k, float[] xs, Random r, String ctx) {
        try (Arena arena = Arena.ofConfined()) {
            int align = r.nextInt(Impls.ALIGNMENTS);
            Impls.Placed p = new Impls.Placed(arena, bytesOf(xs), align);
            StatsAccumulator acc = new StatsAccumulator();
            k.stats(p.seg, p.offset, xs.length, acc);
            assertStats(acc, xs, ctx + " align=" + align);
        }
    }

    @ParameterizedTest
    @MethodSource("impls")
    void statsMeetsProtocolBoundsForEveryLengthUpTo130(Impls.Named<FloatKernels> k) {
        long seed = 0xC0FFEE;
        Random r = new Random(seed);
        for (Dist d : Dist.values()) {
            for (int n = 0; n <= 130; n++) {
                checkStats(k.impl(), values(d, n, r), r, k + " seed=" + seed + " dist=" + d + " n=" + n);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("impls")
    void statsAndScaleAtEveryAlignmentForEveryLengthAroundTheVectorWidths(Impls.Named<FloatKernels> k) {
        // Lengths up to two steps of the wider vector loop (STATS: four vectors a step) and one
        // more, so every tail below a step is met, each at every alignment to a 64-byte vector.
        int maxN = 2 * Math.max(VectorPaths.width(Op.STATS), VectorPaths.width(Op.SCALE)) + 1;
        long wideBefore = VectorPaths.wideCalls(Op.STATS);
        long callsBefore = VectorPaths.calls(Op.STATS);
        long seed = 0xA11;
        Random r = new Random(seed);
        try (Arena arena = Arena.ofConfined()) {
            for (int align = 0; align < Impls.ALIGNMENTS; align++) {
                for (int n = 0; n <= maxN; n++) {
                    Dist d = Dist.values()[(align + n) % Dist.values().length];
                    float[] xs = values(d, n, r);
                    String ctx = k + " seed=" + seed + " align=" + align + " n=" + n + " dist=" + d;
                    Impls.Placed p = new Impls.Placed(arena, bytesOf(xs), align);
                    StatsAccumulator acc = new StatsAccumulator();
                    k.impl().stats(p.seg, p.offset, n, acc);
                    assertStats(acc, xs, ctx);
                    float a = (float) r.nextGaussian();
                    float b = (float) r.nextGaussian();
                    k.impl().scale(p.seg, p.offset, n, a, b);
                    ByteBuffer out = ByteBuffer.wrap(p.data()).order(ByteOrder.LITTLE_ENDIAN);
                    for (int i = 0; i < n; i++) {
                        assertThat(Float.floatToIntBits(out.getFloat(4 * i))).as("%s scale i=%d", ctx, i)
                                .isEqualTo(Float.floatToIntBits(Math.fma(a, xs[i], b)));
                    }
                    assertThat(p.guardsIntact()).as(ctx + " wrote outside").isTrue();
                }
            }
        }
        if (k.name().equals("vector")) {
            long wide = VectorPaths.wideCalls(Op.STATS) - wideBefore;
            assertThat(wide).as("calls that ran STATS's vector loop").isPositive();
            assertThat(VectorPaths.calls(Op.STATS) - callsBefore - wide).as("calls with only a tail").isPositive();
        }
    }

    @ParameterizedTest
    @MethodSource("impls")
    void statsMeetsProtocolBoundsForRandomLengthsAndOffsets(Impls.Named<FloatKernels> k) {
        for (int iter = 0; iter < 120; iter++) {
            long seed = 1000L + iter;
            Random r = new Random(seed);
            Dist d = Dist.values()[iter % Dist.values().length];
            int n = r.nextInt(5001);
            checkStats(k.impl(), values(d, n, r), r, k + " seed=" + seed + " dist=" + d + " n=" + n);
        }
    }

    @ParameterizedTest
    @MethodSource("impls")
    void statsOfAMillionFloatsWithLargeMeanMeetsVarianceBound(Impls.Named<FloatKernels> k) {
        long seed = 77;
        Random r = new Random(seed);
        int n = 1 << 20;
        float[] xs = new float[n];
        for (int i = 0; i < n; i++) {
            xs[i] = 3.0e5f + (float) r.nextGaussian() * 0.05f; // one-pass Σx²−(Σx)²/n fails here
        }
        checkStats(k.impl(), xs, r, k + " seed=" + seed);
    }

    /** Adversarial layouts for a per-block shift K = the block's first value (blocks of 2048). */
    enum BlockCase {
        OUTLIER_FIRST_IN_EVERY_BLOCK, OUTLIER_FIRST_CONSTANT_REST, LARGE_MEAN_TINY_SPREAD_EXTREME_FIRST,
        HUGE_FIRST_TINY_REST, TINY_FIRST_HUGE_REST, MIXED_MAGNITUDES_PER_BLOCK, INF_FIRST, NEG_INF_FIRST,
        NAN_FIRST, BOTH_INF_FIRST_IN_TWO_BLOCKS, NEG_ZERO_FIRST, MAX_FLOAT_SPREAD
    }

    static float[] blockValues(BlockCase c, int n, Random r) {
        float[] xs = new float[n];
        for (int i = 0; i < n; i++) {
            boolean first = i % ScalarFloatKernels.BLOCK == 0;
            xs[i] = switch (c) {
                case OUTLIER_FIRST_IN_EVERY_BLOCK -> first ? 1.0e6f : 1.0e4f + (float) (r.nextDouble() * 0.01);
                case OUTLIER_FIRST_CONSTANT_REST -> first ? 3.0e5f + 1 : 3.0e5f;
                case LARGE_MEAN_TINY_SPREAD_EXTREME_FIRST ->
                        first ? 3.0e5f + 0.25f : 3.0e5f + (float) (r.nextGaussian() * 0.05);
                case HUGE_FIRST_TINY_REST -> first ? 3.0e38f : (float) (r.nextGaussian() * 1e-30);
                case TINY_FIRST_HUGE_REST -> first ? 1.0e-40f : (float) (1e37 * (1 + r.nextDouble()));
                case MIXED_MAGNITUDES_PER_BLOCK -> (float) ((r.nextBoolean() ? 1 : -1)
                        * Math.pow(10, (i / 256 % 2 == 0 ? -30 : 20) + r.nextDouble() * 10));
                case INF_FIRST, NEG_INF_FIRST, NAN_FIRST, BOTH_INF_FIRST_IN_TWO_BLOCKS, NEG_ZERO_FIRST ->
                        (float) (r.nextDouble() * 2 - 1);
                case MAX_FLOAT_SPREAD -> (i % 2 == 0 ? 1 : -1) * Float.MAX_VALUE * (float) r.nextDouble();
            };
        }
        if (n > 0) {
            int b = ScalarFloatKernels.BLOCK * r.nextInt((n + ScalarFloatKernels.BLOCK - 1) / ScalarFloatKernels.BLOCK);
            switch (c) {
                case INF_FIRST -> xs[b] = Float.POSITIVE_INFINITY;
                case NEG_INF_FIRST -> xs[b] = Float.NEGATIVE_INFINITY;
                case NAN_FIRST -> xs[b] = Float.NaN;
                case NEG_ZERO_FIRST -> xs[b] = -0.0f;
                case BOTH_INF_FIRST_IN_TWO_BLOCKS -> {
                    xs[0] = Float.POSITIVE_INFINITY;
                    xs[n - 1 - (n - 1) % ScalarFloatKernels.BLOCK] = Float.NEGATIVE_INFINITY; // same block if n <= BLOCK
                }
                default -> { }
            }
        }
        return xs;
    }

    @ParameterizedTest
    @MethodSource("impls")
    void statsMeetsBoundsWhenTheBlocksFirstValueIsAdversarial(Impls.Named<FloatKernels> k) {
        long seed = 31337;
        Random r = new Random(seed);
        int[] lengths = {1, 2, 31, 32, 33, 2047, 2048, 2049, 4096, 4097, 6143, 10_000};
        for (BlockCase c : BlockCase.values()) {
            for (int n : lengths) {
                float[] xs = blockValues(c, n, r);
                try (Arena arena = Arena.ofConfined()) {
                    // any alignment, but the kernel's blocks start at the first float, as built
                    int align = r.nextInt(Impls.ALIGNMENTS);
                    Impls.Placed p = new Impls.Placed(arena, bytesOf(xs), align);
                    StatsAccumulator acc = new StatsAccumulator();
                    k.impl().stats(p.seg, p.offset, xs.length, acc);
                    assertStats(acc, xs, k + " seed=" + seed + " case=" + c + " n=" + n + " align=" + align);
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("impls")
    void minAndMaxAreExactForEverySignMix(Impls.Named<FloatKernels> k) {
        // the vector kernel takes min/max from the raw bits as ints; check every sign pattern,
        // signed zeros included, in the vector part (n >= 32) and in the tail
        long seed = 555;
        Random r = new Random(seed);
        float[][] pools = {
            {-0.0f}, {0.0f}, {-0.0f, 0.0f}, {-1.5f, -3e38f, -1e-40f, -0.0f}, {1.5f, 3e38f, 1e-40f, 0.0f},
            {-2f, 2f}, {-0.0f, 1e-45f}, {0.0f, -1e-45f}, {-Float.MAX_VALUE, Float.MAX_VALUE}, {-7f, -0.0f, 0.0f, 7f}
        };
        for (float[] pool : pools) {
            for (int n : new int[] {1, 31, 32, 33, 64, 100, 2048, 2100}) {
                float[] xs = new float[n];
                for (int i = 0; i < n; i++) {
                    xs[i] = pool[r.nextInt(pool.length)];
                }
                checkStats(k.impl(), xs, r, k + " seed=" + seed + " pool=" + java.util.Arrays.toString(pool) + " n=" + n);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("impls")
    void statsOfLargeMeanWithOutliersStartingBlocksMeetsVarianceBound(Impls.Named<FloatKernels> k) {
        // 256 Ki floats, mean 3e5, sigma 0.05; every block's first value is an outlier 3e5 ± 40,
        // so S2 about K is ~n times the block's m2: the worst case of the shifted one-pass sums
        long seed = 78;
        Random r = new Random(seed);
        int n = 1 << 18;
        float[] xs = new float[n];
        for (int i = 0; i < n; i++) {
            xs[i] = i % ScalarFloatKernels.BLOCK == 0
                    ? 3.0e5f + (r.nextBoolean() ? 40f : -40f)
                    : 3.0e5f + (float) r.nextGaussian() * 0.05f;
        }
        try (Arena arena = Arena.ofConfined()) {
            Impls.Placed p = new Impls.Placed(arena, bytesOf(xs), 0);
            StatsAccumulator acc = new StatsAccumulator();
            k.impl().stats(p.seg, p.offset, xs.length, acc);
            assertStats(acc, xs, k + " seed=" + seed);
        }
    }

    @ParameterizedTest
    @MethodSource("impls")
    void statsFoldedInChunksEqualsOnePass(Impls.Named<FloatKernels> k) {
        long seed = 4242;
        Random r = new Random(seed);
        float[] xs = values(Dist.LARGE_MEAN_SMALL_SPREAD, 9000, r);
        try (Arena arena = Arena.ofConfined()) {
            Impls.Placed p = new Impls.Placed(arena, bytesOf(xs), 3);
            StatsAccumulator whole = new StatsAccumulator();
            StatsAccumulator merged = new StatsAccumulator();
            StatsAccumulator part = new StatsAccumulator();
            k.impl().stats(p.seg, p.offset, xs.length, whole);
            int pos = 0;
            while (pos < xs.length) {
                int c = Math.min(xs.length - pos, 1 + r.nextInt(3000));
                part.reset();
                k.impl().stats(p.seg, p.offset + 4L * pos, c, part);
                merged.merge(part);
                pos += c;
            }
            assertStats(whole, xs, k + " whole seed=" + seed);
            assertStats(merged, xs, k + " merged seed=" + seed);
        }
    }

    @ParameterizedTest
    @MethodSource("impls")
    void statsDoesNotAllocate(Impls.Named<FloatKernels> k) {
        try (Arena arena = Arena.ofConfined()) {
            float[] xs = values(Dist.UNIFORM, 10_000, new Random(5));
            Impls.Placed p = new Impls.Placed(arena, bytesOf(xs), 1);
            StatsAccumulator acc = new StatsAccumulator();
            Runnable work = () -> {
                acc.reset();
                k.impl().stats(p.seg, p.offset, xs.length, acc);
                k.impl().scale(p.seg, p.offset, xs.length, 1f, 0f);
            };
            // warm up so that escape analysis has kicked in, then measure 1000 calls
            long allocated = dev.framepipe.testing.SteadyState.allocatedBytes(work, 20_000, 1000, 10, 0);
            assertThat(allocated).as(k + " bytes allocated by 1000 calls").isLessThan(1000);
        }
    }

    @ParameterizedTest
    @MethodSource("impls")
    void scaleIsFusedMultiplyAddRoundedOnceForEveryLengthAndOffset(Impls.Named<FloatKernels> k) {
        long seed = 99;
        Random r = new Random(seed);
        IntFunction<float[]> gen = n -> {
            float[] xs = values(Dist.values()[r.nextInt(Dist.values().length)], n, r);
            if (n > 0 && r.nextBoolean()) {
                xs[r.nextInt(n)] = Float.NEGATIVE_INFINITY;
            }
            return xs;
        };
        for (int iter = 0; iter < 400; iter++) {
            int n = iter <= 130 ? iter : r.nextInt(5001);
            float[] xs = gen.apply(n);
            float a = switch (iter % 5) {
                case 0 -> (float) r.nextGaussian();
                case 1 -> 1.0f / 3;
                case 2 -> Float.NaN;
                case 3 -> 0.0f;
                default -> Float.POSITIVE_INFINITY;
            };
            float b = iter % 7 == 0 ? Float.NEGATIVE_INFINITY : (float) r.nextGaussian() * 1e3f;
            try (Arena arena = Arena.ofConfined()) {
                int align = r.nextInt(Impls.ALIGNMENTS);
                Impls.Placed p = new Impls.Placed(arena, bytesOf(xs), align);
                k.impl().scale(p.seg, p.offset, n, a, b);
                ByteBuffer out = ByteBuffer.wrap(p.data()).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < n; i++) {
                    float want = Math.fma(a, xs[i], b);
                    float got = out.getFloat(4 * i);
                    assertThat(Float.floatToIntBits(got))
                            .as("%s seed=%d iter=%d align=%d n=%d i=%d a=%s b=%s x=%s got=%s want=%s",
                                    k, seed, iter, align, n, i, a, b, xs[i], got, want)
                            .isEqualTo(Float.floatToIntBits(want));
                }
                assertThat(p.guardsIntact()).as(k + " seed=" + seed + " iter=" + iter + " wrote outside").isTrue();
            }
        }
    }
}
