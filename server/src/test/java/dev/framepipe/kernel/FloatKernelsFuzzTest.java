package dev.framepipe.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Fuzzes the float kernels the server uses ({@link Kernels#floats()}: the vector implementation
 * when present) against their scalar twin and the exact rules: STATS of both within the
 * protocol's bounds of the exact result (min, max, count and the NaN/infinity rules exact), and
 * SCALE bit for bit {@code fma(a, x, b)} in binary32, in both, at any alignment.
 */
class FloatKernelsFuzzTest {

    private static final FloatKernels SERVED = Kernels.floats();
    private static final FloatKernels SCALAR = new ScalarFloatKernels();

    @FuzzTest(maxDuration = "60s")
    void vectorAndScalarKernelsAgreeWithTheExactRules(FuzzedDataProvider data) {
        float a = data.consumeFloat();
        float b = data.consumeFloat();
        int skew = data.consumeInt(0, 3) * 4 + data.consumeInt(0, 1) * 2; // aligned and unaligned floats
        byte[] raw = data.consumeRemainingAsBytes();
        int n = raw.length / 4;
        float[] xs = new float[n];
        MemorySegment src = MemorySegment.ofArray(raw);
        for (int i = 0; i < n; i++) {
            xs[i] = src.get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 4L * i);
        }
        byte[] bytes = FloatKernelsTest.bytesOf(xs);

        for (FloatKernels k : new FloatKernels[] {SERVED, SCALAR}) {
            MemorySegment seg = place(bytes, skew);
            StatsAccumulator acc = new StatsAccumulator();
            k.stats(seg, skew, n, acc);
            FloatKernelsTest.assertStats(acc, xs, k.getClass().getSimpleName());

            k.scale(seg, skew, n, a, b);
            for (int i = 0; i < n; i++) {
                float got = seg.get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN),
                        skew + 4L * i);
                float want = Math.fma(a, xs[i], b);
                assertThat(Float.floatToRawIntBits(got) == Float.floatToRawIntBits(want)
                        || (Float.isNaN(got) && Float.isNaN(want)))
                        .as("%s scale x[%d]=%s a=%s b=%s: %s vs %s", k.getClass().getSimpleName(), i, xs[i], a, b, got, want)
                        .isTrue();
            }
            for (int i = 0; i < skew; i++) {
                assertThat(seg.get(ValueLayout.JAVA_BYTE, i)).as("guard before").isEqualTo((byte) 0x5A);
            }
            for (long i = skew + 4L * n; i < seg.byteSize(); i++) {
                assertThat(seg.get(ValueLayout.JAVA_BYTE, i)).as("guard after").isEqualTo((byte) 0x5A);
            }
        }
    }

    private static MemorySegment place(byte[] bytes, int skew) {
        byte[] buf = new byte[skew + bytes.length + 16];
        java.util.Arrays.fill(buf, (byte) 0x5A);
        System.arraycopy(bytes, 0, buf, skew, bytes.length);
        return MemorySegment.ofArray(buf);
    }
}
