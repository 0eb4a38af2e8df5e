package dev.framepipe.kernel.vector;

import dev.framepipe.kernel.FloatKernels;
import dev.framepipe.kernel.ScalarFloatKernels;
import dev.framepipe.kernel.StatsAccumulator;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * STATS and SCALE on the Vector API, reading the little-endian floats straight from the segment.
 *
 * <p>STATS reads each float once: per block of {@link #BLOCK} floats, one pass gives min/max
 * (int lanes over the float bits) and the shifted sums Σ(x − K), Σ(x − K)² (double lanes) about K = the block's
 * first value (see {@link #onePassBlock} for why that meets the protocol's accuracy bound), and
 * the block is merged with the parallel formula. Floats are widened with {@code convertShape(F2D, DS, 0)}
 * from a float species of half the double width, so the lane count stays equal and part is 0:
 * that form is intrinsified; a part other than 0 or a lane-count change was ~100x slower.
 *
 * <p>Min/max work on the raw float bits as ints, three single-instruction ops per vector
 * (signed min, signed max, unsigned max) instead of the float MIN/MAX lanewise ops, which must
 * follow Math.min/max (NaN, -0.0 &lt; 0.0) and compile to ~5 instructions each on x86; they
 * were the bottleneck of the loop (one pass: 17 → 26 GB/s in cache). For finite floats: a
 * non-negative float's bits are a non-negative int and order like the float; a negative float's
 * bits are a negative int, ordered in reverse (−0.0 is Integer.MIN_VALUE), and as unsigned
 * they exceed every non-negative float's and grow with the magnitude. Hence max = the signed
 * max if that is ≥ 0 (some value ≥ +0.0), else (all negative) the signed min; min = the
 * unsigned max if the signed min is negative (some value ≤ −0.0), else the signed min. This
 * gets −0.0 &lt; +0.0 right. NaNs are not ordered by it, but a block holding a NaN or an
 * infinity never uses these values: its sum is not finite and the block goes to the scalar twin.
 */
final class VectorFloatKernels implements FloatKernels {

    static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    /** Floats with as many lanes as DS: widening keeps the lane count. */
    static final VectorSpecies<Float> FS =
            VectorSpecies.of(float.class, VectorShape.forBitSize(DS.vectorBitSize() / 2));
    /** Full-width floats for SCALE. */
    static final VectorSpecies<Float> FW = FloatVector.SPECIES_PREFERRED;

    /** Ints over the same bits as FS, for min/max. */
    static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, FS.vectorShape());

    private static final int L = FS.length();
    private static final long VB = (long) L * Float.BYTES; // bytes per FS vector
    /** Floats from which STATS runs its vector loop (four FS vectors per step). */
    static final int STATS_WIDTH = 4 * L;
    /** Floats from which SCALE runs its vector loop (one FW vector per step). */
    static final int SCALE_WIDTH = FW.length();
    /** 2048: the error bound in {@link #onePassBlock} grows with n² and is worked out for n ≤ 2048. */
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
        VectorPaths.entered(VectorPaths.STATS, count);
        long pos = offset;
        int left = count;
        while (left > 0) {
            int n = Math.min(BLOCK, left);
            onePassBlock(segment, pos, n, acc);
            pos += (long) n * Float.BYTES;
            left -= n;
        }
    }

    /**
     * One pass over a block of {@code n} floats (n &gt; 0): min/max in float lanes (exact), and,
     * in double, S1 = Σ(x − K) and S2 = Σ(x − K)² about the shift K = the block's first value;
     * then block sum = n·K + S1 and block m2 = S2 − S1²/n.
     *
     * <p><b>Why this meets the protocol's bound</b> (u = 2⁻⁵³, c = the longest addition chain:
     * n/32 with 4 accumulators of 8 lanes, plus ≤ 2 + 7 for the accumulator/lane reduction and
     * ≤ 31 for the scalar tail, so c ≤ 104 for n ≤ 2048). Let δ = mean_b − K. Because K is a
     * member of the block, (K − mean_b)² ≤ Σ(x − mean_b)² = m2_b (in fact ≤ (n−1)/n·m2_b,
     * Samuelson), so S2 = m2_b + n·δ² ≤ n·m2_b. Errors: each d = x − K is rounded once (relative
     * u); S2 (non-negative terms, fma) carries ≤ (c + 2)·u·S2; S1 carries ≤ (c + 1)·u·Σ|d|, and
     * since Σ|d| ≤ √(n·S2) and |δ|·√n ≤ √S2, the error of S1²/n is ≤ 2(c + 1)·u·|δ|·Σ|d| ≤
     * 2(c + 1)·u·S2. So |m2̂_b − m2_b| ≤ (3c + 5)·u·S2 ≤ (3c + 5)·u·n·m2_b ≈ 7.2e-11·m2_b for
     * n = 2048. Summed over blocks, Σ m2_b ≤ M2 = N·V, so the variance error from the blocks is
     * ≤ 7.2e-11·V against the allowed 1e-9·V (the Chan merge adds the same small error as
     * before). The worst case is attained by an outlier as K (e.g. {1e6, 1e4, 1e4, ...}): then
     * S2 ≈ n·m2_b, but that outlier also makes m2_b large, so the bound still holds; a large mean
     * with a tiny spread has K ≈ mean, S2 ≈ m2_b, and loses nothing. The cancellation that sinks
     * Σx² − (Σx)²/n needs a shift far outside the block; K inside the block rules it out.
     *
     * <p>Sum: Σx = n·K + Σd exactly; |n·K| ≤ n·Σ|x_b| and Σ|d| ≤ (n + 1)·Σ|x_b|, so the error is
     * ≤ (c + 3)·u·(n + 1)·Σ|x_b| ≈ 2.4e-11·Σ|x_b| against the allowed 1e-9·Σ|x|.
     *
     * <p>Infinities and NaNs make n·K + S1 non-finite (x − K or K itself is ±∞/NaN, finite
     * floats cannot overflow a double here); such a block is redone by the scalar twin, which
     * applies the IEEE rules for the sum. Finite floats never overflow: |d| ≤ 6.9e38, d² ≤ 4.7e77.
     */
    static void onePassBlock(MemorySegment seg, long off, int n, StatsAccumulator acc) {
        // Only the frame's last block can have a tail; it is done scalar (under 4*L floats) to
        // keep this method small: a bigger one made C2 give up intrinsifying and box vectors.
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
        IntVector smin = IntVector.broadcast(IS, Integer.MAX_VALUE);
        IntVector smax = IntVector.broadcast(IS, Integer.MIN_VALUE);
        IntVector umax = IntVector.zero(IS);
        long endV = off + (long) (n - n % (4 * L)) * Float.BYTES;
        for (long p = off; p < endV; p += 4 * VB) {
            FloatVector xa = FloatVector.fromMemorySegment(FS, seg, p, LE);
            FloatVector xb = FloatVector.fromMemorySegment(FS, seg, p + VB, LE);
            FloatVector xc = FloatVector.fromMemorySegment(FS, seg, p + 2 * VB, LE);
            FloatVector xd = FloatVector.fromMemorySegment(FS, seg, p + 3 * VB, LE);
            IntVector ia = xa.reinterpretAsInts();
            IntVector ib = xb.reinterpretAsInts();
            IntVector ic = xc.reinterpretAsInts();
            IntVector id = xd.reinterpretAsInts();
            smin = smin.min(ia.min(ib)).min(ic.min(id));
            smax = smax.max(ia.max(ib)).max(ic.max(id));
            umax = umax.lanewise(VectorOperators.UMAX, ia.lanewise(VectorOperators.UMAX, ib))
                    .lanewise(VectorOperators.UMAX, ic.lanewise(VectorOperators.UMAX, id));
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
        // min/max from the raw bits (see the class comment); only used when the block is finite
        int mi = smin.reduceLanes(VectorOperators.MIN);
        int ma = smax.reduceLanes(VectorOperators.MAX);
        // unsigned max as a signed MAX of the sign-flipped bits: reduceLanes(UMAX) is not
        // intrinsified on this JDK (it boxed one vector per block, 64 B)
        int um = umax.lanewise(VectorOperators.XOR, Integer.MIN_VALUE).reduceLanes(VectorOperators.MAX)
                ^ Integer.MIN_VALUE;
        double min = endV == off ? Double.POSITIVE_INFINITY : Float.intBitsToFloat(mi < 0 ? um : mi);
        double max = endV == off ? Double.NEGATIVE_INFINITY : Float.intBitsToFloat(ma >= 0 ? ma : mi);
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
        finishBlock(seg, off, n, k, s, q, min, max, acc);
    }

    /** Block sum = n·K + S1, m2 = S2 − S1²/n; a block holding a NaN or an infinity goes scalar. */
    static void finishBlock(MemorySegment seg, long off, int n, double k, double s1, double s2,
            double min, double max, StatsAccumulator acc) {
        double sum = n * k + s1;
        if (!Double.isFinite(sum)) {
            HEAP.stats(seg, off, n, acc); // IEEE rules for ±inf/NaN; rare, so plain code is fine
            return;
        }
        acc.addChunk(n, sum, Math.max(0.0, s2 - s1 * s1 / n), min, max);
    }

    @Override
    public void scale(MemorySegment segment, long offset, int count, float a, float b) {
        if (!segment.isNative()) {
            HEAP.scale(segment, offset, count, a, b);
            return;
        }
        VectorPaths.entered(VectorPaths.SCALE, count);
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
