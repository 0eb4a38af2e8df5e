package dev.framepipe.kernel.vector;

import dev.framepipe.kernel.StatsAccumulator;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Benchmark-only STATS variants, kept next to the production kernel so one JMH run compares them
 * side by side: the previous two-pass block kernel, and one-pass shifted variants (block size,
 * accumulator count). Native segments only.
 */
public final class StatsVariants {

    static final VectorSpecies<Double> DS = VectorFloatKernels.DS;
    static final VectorSpecies<Float> FS = VectorFloatKernels.FS;
    static final VectorSpecies<Integer> IS = IntVector.SPECIES_256;
    private static final int L = FS.length();
    private static final long VB = (long) L * Float.BYTES;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FLOAT_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private StatsVariants() {
    }

    /** A STATS entry point (each JMH fork runs one benchmark, so the shared loop sees one variant). */
    public interface Stats {
        void stats(MemorySegment seg, long off, int count, StatsAccumulator acc);
    }

    /** The kernel before the one-pass change: two passes per 2048-float block. */
    public static final Stats TWO_PASS = (seg, off, count, acc) -> run(seg, off, count, acc, 2048, 0);
    /** The production kernel's block with blocks of 4096 floats. */
    public static final Stats ONE_PASS_4096 = (seg, off, count, acc) -> run(seg, off, count, acc, 4096, 1);

    public static final Stats ONE_PASS_FLOAT_MINMAX = (seg, off, count, acc) -> run(seg, off, count, acc, 2048, 4);
    public static final Stats TWO_PASS_INT_MINMAX = (seg, off, count, acc) -> run(seg, off, count, acc, 2048, 5);
    public static final Stats ONE_PASS_2ACC = (seg, off, count, acc) -> run(seg, off, count, acc, 2048, 3);

    private static void run(MemorySegment seg, long off, int count, StatsAccumulator acc, int block, int variant) {
        long pos = off;
        int left = count;
        while (left > 0) {
            int n = Math.min(block, left);
            switch (variant) {
                case 0 -> twoPassBlock(seg, pos, n, acc);
                case 1 -> VectorFloatKernels.onePassBlock(seg, pos, n, acc);
                case 4 -> floatMinMaxBlock(seg, pos, n, acc);
                case 5 -> twoPassIntBlock(seg, pos, n, acc);
                default -> twoAccBlock(seg, pos, n, acc);
            }
            pos += (long) n * Float.BYTES;
            left -= n;
        }
    }

    // ---- previous production kernel (two passes) ----

    private static void twoPassBlock(MemorySegment seg, long off, int n, StatsAccumulator acc) {
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
        double mean = sum / n;
        double m2 = ssd(seg, off, endV, mean);
        for (long q = endV; q < end; q += Float.BYTES) {
            double d = seg.get(FLOAT_LE, q) - mean;
            m2 += d * d;
        }
        acc.addChunk(n, sum, m2, min, max);
    }

    /** The two-pass kernel with the production kernel's int min/max: does the one pass still matter? */
    private static void twoPassIntBlock(MemorySegment seg, long off, int n, StatsAccumulator acc) {
        DoubleVector s0 = DoubleVector.zero(DS);
        DoubleVector s1 = s0;
        DoubleVector s2 = s0;
        DoubleVector s3 = s0;
        IntVector smin = IntVector.broadcast(IS, Integer.MAX_VALUE);
        IntVector smax = IntVector.broadcast(IS, Integer.MIN_VALUE);
        IntVector umax = IntVector.zero(IS);
        long endV = off + (long) (n - n % (4 * L)) * Float.BYTES;
        for (long p = off; p < endV; p += 4 * VB) {
            FloatVector a = FloatVector.fromMemorySegment(FS, seg, p, LE);
            FloatVector b = FloatVector.fromMemorySegment(FS, seg, p + VB, LE);
            FloatVector c = FloatVector.fromMemorySegment(FS, seg, p + 2 * VB, LE);
            FloatVector d = FloatVector.fromMemorySegment(FS, seg, p + 3 * VB, LE);
            IntVector ia = a.reinterpretAsInts();
            IntVector ib = b.reinterpretAsInts();
            IntVector ic = c.reinterpretAsInts();
            IntVector id = d.reinterpretAsInts();
            smin = smin.min(ia.min(ib)).min(ic.min(id));
            smax = smax.max(ia.max(ib)).max(ic.max(id));
            umax = umax.lanewise(VectorOperators.UMAX, ia.lanewise(VectorOperators.UMAX, ib))
                    .lanewise(VectorOperators.UMAX, ic.lanewise(VectorOperators.UMAX, id));
            s0 = s0.add((DoubleVector) a.convertShape(VectorOperators.F2D, DS, 0));
            s1 = s1.add((DoubleVector) b.convertShape(VectorOperators.F2D, DS, 0));
            s2 = s2.add((DoubleVector) c.convertShape(VectorOperators.F2D, DS, 0));
            s3 = s3.add((DoubleVector) d.convertShape(VectorOperators.F2D, DS, 0));
        }
        int mi = smin.reduceLanes(VectorOperators.MIN);
        int ma = smax.reduceLanes(VectorOperators.MAX);
        // unsigned max as a signed MAX of the sign-flipped bits: reduceLanes(UMAX) is not
        // intrinsified on this JDK (it boxed one vector per block, 64 B)
        int um = umax.lanewise(VectorOperators.XOR, Integer.MIN_VALUE).reduceLanes(VectorOperators.MAX)
                ^ Integer.MIN_VALUE;
        double min = endV == off ? Double.POSITIVE_INFINITY : Float.intBitsToFloat(mi < 0 ? um : mi);
        double max = endV == off ? Double.NEGATIVE_INFINITY : Float.intBitsToFloat(ma >= 0 ? ma : mi);
        double sum = s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
        long end = off + (long) n * Float.BYTES;
        for (long q = endV; q < end; q += Float.BYTES) {
            double x = seg.get(FLOAT_LE, q);
            sum += x;
            min = Math.min(min, x);
            max = Math.max(max, x);
        }
        double mean = sum / n;
        double m2 = ssd(seg, off, endV, mean);
        for (long q = endV; q < end; q += Float.BYTES) {
            double d = seg.get(FLOAT_LE, q) - mean;
            m2 += d * d;
        }
        acc.addChunk(n, sum, m2, min, max); // benchmark data is finite; no NaN/inf fallback here
    }

    private static DoubleVector widen(MemorySegment seg, long pos) {
        return (DoubleVector) FloatVector.fromMemorySegment(FS, seg, pos, LE)
                .convertShape(VectorOperators.F2D, DS, 0);
    }

    private static double ssd(MemorySegment seg, long off, long endV, double mean) {
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

    // ---- one pass with float-lane min/max (the first one-pass version, commit 0be77cd) ----

    private static void floatMinMaxBlock(MemorySegment seg, long off, int n, StatsAccumulator acc) {
        double k = seg.get(FLOAT_LE, off);
        DoubleVector kv = DoubleVector.broadcast(DS, k);
        DoubleVector s0 = DoubleVector.zero(DS);
        DoubleVector s1 = s0;
        DoubleVector s2 = s0;
        DoubleVector s3 = s0;
        DoubleVector q0 = s0;
        DoubleVector q1 = s0;
        DoubleVector q2 = s0;
        DoubleVector q3 = s0;
        FloatVector mn = FloatVector.broadcast(FS, Float.POSITIVE_INFINITY);
        FloatVector mx = FloatVector.broadcast(FS, Float.NEGATIVE_INFINITY);
        FloatVector mn2 = mn;
        FloatVector mx2 = mx;
        long endV = off + (long) (n - n % (4 * L)) * Float.BYTES;
        for (long p = off; p < endV; p += 4 * VB) {
            FloatVector xa = FloatVector.fromMemorySegment(FS, seg, p, LE);
            FloatVector xb = FloatVector.fromMemorySegment(FS, seg, p + VB, LE);
            FloatVector xc = FloatVector.fromMemorySegment(FS, seg, p + 2 * VB, LE);
            FloatVector xd = FloatVector.fromMemorySegment(FS, seg, p + 3 * VB, LE);
            mn = mn.min(xa).min(xb);
            mx = mx.max(xa).max(xb);
            mn2 = mn2.min(xc).min(xd);
            mx2 = mx2.max(xc).max(xd);
            DoubleVector a = ((DoubleVector) xa.convertShape(VectorOperators.F2D, DS, 0)).sub(kv);
            DoubleVector b = ((DoubleVector) xb.convertShape(VectorOperators.F2D, DS, 0)).sub(kv);
            DoubleVector c = ((DoubleVector) xc.convertShape(VectorOperators.F2D, DS, 0)).sub(kv);
            DoubleVector d = ((DoubleVector) xd.convertShape(VectorOperators.F2D, DS, 0)).sub(kv);
            s0 = s0.add(a);
            s1 = s1.add(b);
            s2 = s2.add(c);
            s3 = s3.add(d);
            q0 = a.fma(a, q0);
            q1 = b.fma(b, q1);
            q2 = c.fma(c, q2);
            q3 = d.fma(d, q3);
        }
        double min = mn.min(mn2).reduceLanes(VectorOperators.MIN);
        double max = mx.max(mx2).reduceLanes(VectorOperators.MAX);
        double s = s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
        double q = q0.add(q1).add(q2.add(q3)).reduceLanes(VectorOperators.ADD);
        long end = off + (long) n * Float.BYTES;
        for (long p = endV; p < end; p += Float.BYTES) {
            double x = seg.get(FLOAT_LE, p);
            double d = x - k;
            s += d;
            q += d * d;
            min = Math.min(min, x);
            max = Math.max(max, x);
        }
        VectorFloatKernels.finishBlock(seg, off, n, k, s, q, min, max, acc);
    }

    // ---- one pass, 2 accumulator sets, unrolled by 2 ----

    private static void twoAccBlock(MemorySegment seg, long off, int n, StatsAccumulator acc) {
        double k = seg.get(FLOAT_LE, off);
        DoubleVector kv = DoubleVector.broadcast(DS, k);
        DoubleVector s0 = DoubleVector.zero(DS);
        DoubleVector s1 = s0;
        DoubleVector q0 = s0;
        DoubleVector q1 = s0;
        FloatVector mn = FloatVector.broadcast(FS, Float.POSITIVE_INFINITY);
        FloatVector mx = FloatVector.broadcast(FS, Float.NEGATIVE_INFINITY);
        long endV = off + (long) (n - n % (2 * L)) * Float.BYTES;
        for (long p = off; p < endV; p += 2 * VB) {
            FloatVector x0 = FloatVector.fromMemorySegment(FS, seg, p, LE);
            FloatVector x1 = FloatVector.fromMemorySegment(FS, seg, p + VB, LE);
            mn = mn.min(x0).min(x1);
            mx = mx.max(x0).max(x1);
            DoubleVector a = ((DoubleVector) x0.convertShape(VectorOperators.F2D, DS, 0)).sub(kv);
            DoubleVector b = ((DoubleVector) x1.convertShape(VectorOperators.F2D, DS, 0)).sub(kv);
            s0 = s0.add(a);
            s1 = s1.add(b);
            q0 = a.fma(a, q0);
            q1 = b.fma(b, q1);
        }
        double min = mn.reduceLanes(VectorOperators.MIN);
        double max = mx.reduceLanes(VectorOperators.MAX);
        double s = s0.add(s1).reduceLanes(VectorOperators.ADD);
        double q = q0.add(q1).reduceLanes(VectorOperators.ADD);
        long end = off + (long) n * Float.BYTES;
        for (long p = endV; p < end; p += Float.BYTES) {
            double x = seg.get(FLOAT_LE, p);
            double d = x - k;
            s += d;
            q += d * d;
            min = Math.min(min, x);
            max = Math.max(max, x);
        }
        VectorFloatKernels.finishBlock(seg, off, n, k, s, q, min, max, acc);
    }
}
