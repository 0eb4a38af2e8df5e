package dev.framepipe.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.framepipe.kernel.vector.VectorPaths;
import dev.framepipe.kernel.vector.VectorPaths.Op;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;

/**
 * Fuzzes the vector float kernels and their scalar twin against the exact rules: STATS of both
 * within the protocol's bounds of the exact result (min, max, count and the NaN/infinity rules
 * exact), and SCALE bit for bit {@code fma(a, x, b)} in binary32. The floats sit where the
 * pipeline puts a frame's payload: in a pooled direct buffer, seen through the segment spanning
 * native memory, at any of the 64 alignments to a vector. Every vector call must run vector
 * code ({@link VectorPaths}); once the inputs are done, some must have reached past the vector
 * loops' width and some not.
 *
 * <p>Input: a, b (SCALE's coefficients), the alignment (one byte), whether SCALE runs first (then
 * STATS sees the scaled values), then the floats' bytes, little-endian.
 */
class FloatKernelsFuzzTest {

    private static final FloatKernels VECTOR = Impls.vectorFloats();
    private static final FloatKernels SCALAR = new ScalarFloatKernels();
    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static final AtomicLong WIDE = new AtomicLong();
    private static final AtomicLong NARROW = new AtomicLong();

    @FuzzTest(maxDuration = "60s")
    void vectorAndScalarKernelsAgreeWithTheExactRules(FuzzedDataProvider data) {
        float a = data.consumeFloat();
        float b = data.consumeFloat();
        int align = data.consumeInt(0, Impls.ALIGNMENTS - 1);
        boolean scaleFirst = data.consumeBoolean();
        byte[] raw = data.consumeRemainingAsBytes();
        int n = raw.length / 4;
        float[] xs = new float[n];
        float[] scaled = new float[n];
        MemorySegment src = MemorySegment.ofArray(raw);
        for (int i = 0; i < n; i++) {
            xs[i] = src.get(FLOAT_LE, 4L * i);
            scaled[i] = Math.fma(a, xs[i], b);
        }
        byte[] bytes = FloatKernelsTest.bytesOf(xs);
        (n >= VectorPaths.width(Op.STATS) ? WIDE : NARROW).incrementAndGet();

        for (FloatKernels k : new FloatKernels[] {VECTOR, SCALAR}) {
            String name = k == VECTOR ? "vector" : "scalar";
            try (Arena arena = Arena.ofConfined()) {
                Impls.Placed p = new Impls.Placed(arena, bytes, align);
                if (scaleFirst) {
                    scale(k, p, n, a, b);
                    assertScaled(p, xs, scaled, a, b, name);
                    stats(k, p, n, scaled, name + " of the scaled values");
                } else {
                    stats(k, p, n, xs, name);
                    scale(k, p, n, a, b);
                    assertScaled(p, xs, scaled, a, b, name);
                }
                assertThat(p.guardsIntact()).as("%s wrote outside the floats (align %d)", name, align).isTrue();
            }
        }
    }

    private static void stats(FloatKernels k, Impls.Placed p, int n, float[] want, String ctx) {
        long calls = VectorPaths.calls(Op.STATS);
        StatsAccumulator acc = new StatsAccumulator();
        k.stats(p.seg, p.offset, n, acc);
        if (k == VECTOR) {
            assertThat(VectorPaths.calls(Op.STATS)).as("STATS of %d floats ran vector code", n).isEqualTo(calls + 1);
        }
        FloatKernelsTest.assertStats(acc, want, ctx);
    }

    private static void scale(FloatKernels k, Impls.Placed p, int n, float a, float b) {
        long calls = VectorPaths.calls(Op.SCALE);
        k.scale(p.seg, p.offset, n, a, b);
        if (k == VECTOR) {
            assertThat(VectorPaths.calls(Op.SCALE)).as("SCALE of %d floats ran vector code", n).isEqualTo(calls + 1);
        }
    }

    private static void assertScaled(Impls.Placed p, float[] xs, float[] want, float a, float b, String name) {
        for (int i = 0; i < xs.length; i++) {
            float got = p.seg.get(FLOAT_LE, p.offset + 4L * i);
            assertThat(Float.floatToRawIntBits(got) == Float.floatToRawIntBits(want[i])
                    || (Float.isNaN(got) && Float.isNaN(want[i])))
                    .as("%s scale x[%d]=%s a=%s b=%s: %s vs %s", name, i, xs[i], a, b, got, want[i])
                    .isTrue();
        }
    }

    @AfterAll
    static void theInputsReachedBothSidesOfTheVectorWidth() {
        assertThat(WIDE.get()).as("inputs of at least %d floats (STATS's vector loop)", VectorPaths.width(Op.STATS))
                .isPositive();
        assertThat(NARROW.get()).as("inputs shorter than that (tails only)").isPositive();
    }
}
