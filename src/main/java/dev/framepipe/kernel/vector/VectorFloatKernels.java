package dev.framepipe.kernel.vector;

import dev.framepipe.kernel.FloatKernels;
import dev.framepipe.kernel.ScalarFloatKernels;
import dev.framepipe.kernel.StatsAccumulator;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * STATS and SCALE on the Vector API, reading the little-endian floats straight from the segment.
 *
 * <p>STATS uses the same blocked, corrected two-pass scheme as {@link ScalarFloatKernels}
 * (block sum/min/max, then squared deviations about the block mean while the block is in L1,
 * merged with the parallel formula). Floats are widened with {@code convertShape(F2D, DS, 0)}
 * from a float species of half the double width, so the lane count stays equal and part is 0:
 * that form is intrinsified; a part other than 0 or a lane-count change was ~100x slower.
 * Min/max stay in the float domain (exact, and half the work).
 */
final class VectorFloatKernels implements FloatKernels {

    static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    /** Floats with as many lanes as DS: widening keeps the lane count. */
    static final VectorSpecies<Float> FS =
            VectorSpecies.of(float.class, VectorShape.forBitSize(DS.vectorBitSize() / 2));
    /** Full-width floats for SCALE. */
    static final VectorSpecies<Float> FW = FloatVector.SPECIES_PREFERRED;

    private static final int L = FS.length();
    private static final long VB = (long) L * Float.BYTES; // bytes per FS vector
    private static final int BLOCK = ScalarFloatKernels.BLOCK;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FLOAT_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * Heap segments take the scalar twin: if one vector loop saw both heap and native segments,
     * C2 would lose the exact segment type and stop intrinsifying (every vector boxed, ~50x
     * slower). The pipeline's frames are direct buffers, so native is the path that matters.
     */
    private static final FloatKernels HEAP = new ScalarFloatKernels();

    @Override
    public void stats(MemorySegment segment, long offset, int count, StatsAccumulator acc) {
        if (!segment.isNative()) {
            HEAP.stats(segment, offset, count, acc);
            return;
        }
        long pos = offset;
        int left = count;
        while (left > 0) {
            int n = Math.min(BLOCK, left);
            statsBlock(segment, pos, n, acc);
            pos += (long) n * Float.BYTES;
            left -= n;
        }
    }

    private static DoubleVector widen(MemorySegment seg, long pos) {
        return (DoubleVector) FloatVector.fromMemorySegment(FS, seg, pos, LE)
                .convertShape(VectorOperators.F2D, DS, 0);
    }

    private static void statsBlock(MemorySegment seg, long off, int n, StatsAccumulator acc) {
        // Pass 1: sum (4 independent double accumulators hide the add latency), min, max.
        // Only the frame's last block can have a tail; it is done scalar (under 4*L floats) to
        // keep this method small: a bigger one made C2 give up intrinsifying and box vectors.
        DoubleVector s0 = DoubleVector.zero(DS);
        DoubleVector s1 = s0;
        DoubleVector s2 = s0;
        DoubleVector s3 = s0;
        FloatVector mn = FloatVector.broadcast(FS, Float.POSITIVE_INFINITY);
        FloatVector mx = FloatVector.broadcast(FS, Float.NEGATIVE_INFINITY);
        FloatVector mn2 = mn;
        FloatVector mx2 = mx;
        long endV = off + (long) (n - n % (4 * L)) * Float.BYTES;
        for (long p = off; p < endV; p += 4 * VB) {
            FloatVector a = FloatVector.fromMemorySegment(FS, seg, p, LE);
            FloatVector b = FloatVector.fromMemorySegment(FS, seg, p + VB, LE);
            FloatVector c = FloatVector.fromMemorySegment(FS, seg, p + 2 * VB, LE);
            FloatVector d = FloatVector.fromMemorySegment(FS, seg, p + 3 * VB, LE);
            mn = mn.min(a).min(b);
            mx = mx.max(a).max(b);
            mn2 = mn2.min(c).min(d);
            mx2 = mx2.max(c).max(d);
            s0 = s0.add((DoubleVector) a.convertShape(VectorOperators.F2D, DS, 0));
            s1 = s1.add((DoubleVector) b.convertShape(VectorOperators.F2D, DS, 0));
            s2 = s2.add((DoubleVector) c.convertShape(VectorOperators.F2D, DS, 0));
            s3 = s3.add((DoubleVector) d.convertShape(VectorOperators.F2D, DS, 0));
        }
        // MIN/MAX lanewise follow Math.min/max (NaN-propagating, -0.0 < 0.0), so reduce likewise
        double min = mn.min(mn2).reduceLanes(VectorOperators.MIN);
        double max = mx.max(mx2).reduceLanes(VectorOperators.MAX);
        double sum = s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
        long end = off + (long) n * Float.BYTES;
        for (long q = endV; q < end; q += Float.BYTES) {
            double x = seg.get(FLOAT_LE, q);
            sum += x;
            min = Math.min(min, x);
            max = Math.max(max, x);
        }
        double mean = sum / n; // NaN or infinite with a NaN/inf inside: m2 becomes NaN, as wanted
        double m2 = sumSquaredDeviations(seg, off, endV, mean);
        for (long q = endV; q < end; q += Float.BYTES) {
            double d = seg.get(FLOAT_LE, q) - mean;
            m2 += d * d;
        }
        acc.addChunk(n, sum, m2, min, max);
    }

    /**
     * Pass 2, over the block while it is in L1: Σ(x − mean)². No correction term Σ(x − mean)
     * is needed: the block mean's rounding error e (≤ ~n·ulp of mean(|x|)) adds only n·e² to
     * m2, about 1e-25 of (variance + mean²), far inside the protocol's bound.
     */
    private static double sumSquaredDeviations(MemorySegment seg, long off, long endV, double mean) {
        DoubleVector m = DoubleVector.broadcast(DS, mean);
        DoubleVector q0 = DoubleVector.zero(DS);
        DoubleVector q1 = q0;
        DoubleVector q2 = q0;
        DoubleVector q3 = q0;
        for (long p = off; p < endV; p += 4 * VB) {
            DoubleVector a = widen(seg, p).sub(m);
            DoubleVector b = widen(seg, p + VB).sub(m);
            DoubleVector c = widen(seg, p + 2 * VB).sub(m);
            DoubleVector d = widen(seg, p + 3 * VB).sub(m);
            q0 = a.fma(a, q0);
            q1 = b.fma(b, q1);
            q2 = c.fma(c, q2);
            q3 = d.fma(d, q3);
        }
        return q0.add(q1).add(q2.add(q3)).reduceLanes(VectorOperators.ADD);
    }

    @Override
    public void scale(MemorySegment segment, long offset, int count, float a, float b) {
        if (!segment.isNative()) {
            HEAP.scale(segment, offset, count, a, b);
            return;
        }
        FloatVector va = FloatVector.broadcast(FW, a);
        FloatVector vb = FloatVector.broadcast(FW, b);
        long vbytes = (long) FW.length() * Float.BYTES;
        long end = offset + (long) count * Float.BYTES;
        long endV = offset + (long) (count - count % FW.length()) * Float.BYTES;
        long p = offset;
        for (; p < endV; p += vbytes) {
            FloatVector.fromMemorySegment(FW, segment, p, LE).fma(va, vb).intoMemorySegment(segment, p, LE);
        }
        for (; p < end; p += Float.BYTES) {
            segment.set(FLOAT_LE, p, Math.fma(a, segment.get(FLOAT_LE, p), b));
        }
    }
}
