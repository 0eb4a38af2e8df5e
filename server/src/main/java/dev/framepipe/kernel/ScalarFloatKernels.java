package dev.framepipe.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Plain-Java STATS and SCALE: the fallback when the Vector API is unavailable, and the
 * yardstick the vector kernels are measured against.
 *
 * <p>STATS works block by block ({@link #BLOCK} floats, 8 KiB, so a block stays in L1): one
 * pass computes the block's sum, min and max, a second pass over the cached block computes the
 * squared deviations about the block mean, then the block is merged into the accumulator with
 * the parallel formula. Memory is read once and a large mean cannot cancel the variance.
 */
public final class ScalarFloatKernels implements FloatKernels {

    /** Floats per STATS block; a multiple of every vector width. */
    public static final int BLOCK = 2048;

    static final ValueLayout.OfFloat FLOAT_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Override
    public void stats(MemorySegment segment, long offset, int count, StatsAccumulator acc) {
        long pos = offset;
        int left = count;
        while (left > 0) {
            int n = Math.min(BLOCK, left);
            statsBlock(segment, pos, n, acc);
            pos += (long) n * Float.BYTES;
            left -= n;
        }
    }

    /** Folds one block of {@code n} floats (n &gt; 0) into {@code acc}. */
    static void statsBlock(MemorySegment segment, long offset, int n, StatsAccumulator acc) {
        double sum = 0;
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        long end = offset + (long) n * Float.BYTES;
        for (long p = offset; p < end; p += Float.BYTES) {
            double x = segment.get(FLOAT_LE, p);
            sum += x;
            min = Math.min(min, x); // NaN-propagating, and -0.0 < 0.0 as the protocol wants
            max = Math.max(max, x);
        }
        double mean = sum / n; // NaN/inf here makes m2 NaN, which is what addChunk expects
        double m2 = 0;
        double dev = 0;
        for (long p = offset; p < end; p += Float.BYTES) {
            double d = segment.get(FLOAT_LE, p) - mean;
            m2 += d * d;
            dev += d;
        }
        // Corrected two-pass: removes the error of the rounded block mean.
        m2 -= dev * dev / n;
        acc.addChunk(n, sum, Math.max(0.0, m2), min, max); // max keeps a NaN
    }

    @Override
    public void scale(MemorySegment segment, long offset, int count, float a, float b) {
        long end = offset + (long) count * Float.BYTES;
        for (long p = offset; p < end; p += Float.BYTES) {
            segment.set(FLOAT_LE, p, Math.fma(a, segment.get(FLOAT_LE, p), b));
        }
    }
}
