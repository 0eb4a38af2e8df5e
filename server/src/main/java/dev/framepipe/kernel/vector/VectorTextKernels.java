package dev.framepipe.kernel.vector;

import dev.framepipe.kernel.CaseMapping;
import dev.framepipe.kernel.CountResult;
import dev.framepipe.kernel.ScalarTextKernels;
import dev.framepipe.kernel.TextKernels;
import dev.framepipe.kernel.Utf8;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * UTF-8 kernels on the Vector API. ASCII, the common case, is handled a vector at a time;
 * a vector holding non-ASCII bytes is handed to the scalar code for just the sequences that
 * start in it ({@link Utf8#validateSome}), so mixed text still returns to the fast path.
 * COUNT is fully vectorized for any text.
 */
final class VectorTextKernels implements TextKernels {

    private static final VectorSpecies<Byte> BS = ByteVector.SPECIES_PREFERRED;
    private static final int VL = BS.length();
    /** Bytes from which every op runs at least one step of its vector loop. */
    static final int WIDTH = VL;
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    private static final ByteOrder NO = ByteOrder.nativeOrder(); // bytes: order irrelevant

    /** Heap segments take the scalar twin; see VectorFloatKernels.HEAP for why. */
    private static final TextKernels HEAP = new ScalarTextKernels();

    private static ByteVector load(MemorySegment seg, long pos) {
        return ByteVector.fromMemorySegment(BS, seg, pos, NO);
    }

    /** 321 bytes of bytecode: under C2's FreqInlineSize (325), so a hot caller inlines it. Keep it so. */
    @Override
    public long validateUtf8(MemorySegment segment, long offset, long length) {
        if (!segment.isNative()) {
            return HEAP.validateUtf8(segment, offset, length);
        }
        VectorPaths.entered(VectorPaths.VALIDATE_UTF8, length);
        long end = offset + length;
        long p = offset;
        while (true) {
            // ASCII fast path: four vectors per check, OR-ed so one sign test covers 4*VL bytes
            long end4 = end - 4L * VL;
            while (p <= end4) {
                ByteVector v = load(segment, p).or(load(segment, p + VL))
                        .or(load(segment, p + 2L * VL)).or(load(segment, p + 3L * VL));
                if (v.compare(VectorOperators.LT, (byte) 0).anyTrue()) {
                    break;
                }
                p += 4L * VL;
            }
            if (p > end4) {
                // fewer than 4 vectors left: finish with single vectors, then scalar
                while (p <= end - VL && !load(segment, p).compare(VectorOperators.LT, (byte) 0).anyTrue()) {
                    p += VL;
                }
                if (p > end - VL) {
                    long r = Utf8.validateSome(segment, p, end, end);
                    return r >= 0 ? -1 : ~r - offset;
                }
            }
            // Non-ASCII ahead: skip the ASCII prefix of the vector group, then validate the
            // sequences starting in the next vector with the scalar code.
            long firstNeg = p + firstNegative(segment, p, Math.min(end, p + 4L * VL));
            long r = Utf8.validateSome(segment, firstNeg, Math.min(end, firstNeg + VL), end);
            if (r < 0) {
                return ~r - offset;
            }
            p = r;
        }
    }

    /** Index of the first negative (non-ASCII) byte in {@code [p, limit)}, or limit - p. */
    private static long firstNegative(MemorySegment seg, long p, long limit) {
        long q = p;
        while (q + VL <= limit) {
            VectorMask<Byte> neg = load(seg, q).compare(VectorOperators.LT, (byte) 0);
            if (neg.anyTrue()) {
                return q - p + neg.firstTrue();
            }
            q += VL;
        }
        while (q < limit && seg.get(BYTE, q) >= 0) {
            q++;
        }
        return q - p;
    }

    @Override
    public void count(MemorySegment segment, long offset, long length, CountResult out) {
        if (!segment.isNative()) {
            HEAP.count(segment, offset, length, out);
            return;
        }
        VectorPaths.entered(VectorPaths.COUNT, length);
        long end = offset + length;
        long endV = offset + (length - length % VL);
        long codePoints = 0;
        long words = 0;
        long lines = 0;
        long prevSpace = 1; // bit 0: was the byte before this vector white space (or the start)
        long p = offset;
        for (; p < endV; p += VL) {
            ByteVector v = load(segment, p);
            // continuation bytes are 0x80..0xBF, i.e. signed -128..-65
            codePoints += v.compare(VectorOperators.GE, (byte) -64).trueCount();
            lines += v.compare(VectorOperators.EQ, (byte) '\n').trueCount();
            // white space: 0x20, or 0x09..0x0D (v - 9 unsigned <= 4)
            long space = v.compare(VectorOperators.EQ, (byte) ' ')
                    .or(v.sub((byte) 9).compare(VectorOperators.ULE, (byte) 4)).toLong();
            long mask = VL == 64 ? -1L : (1L << VL) - 1;
            // a word starts at a non-space byte whose predecessor is a space
            long starts = ~space & (space << 1 | prevSpace) & mask;
            words += Long.bitCount(starts);
            prevSpace = space >>> (VL - 1) & 1;
        }
        boolean prev = prevSpace != 0;
        for (; p < end; p++) {
            int b = segment.get(BYTE, p);
            if (b >= -64) {
                codePoints++;
            }
            if (b == '\n') {
                lines++;
            }
            boolean space = b == ' ' || (b >= 0x09 && b <= 0x0D);
            if (!space && prev) {
                words++;
            }
            prev = space;
        }
        out.bytes = length;
        out.codePoints = codePoints;
        out.words = words;
        out.lines = lines;
    }

    /** Lanes holding ASCII letters of the case that changes: a..z for UPPER, A..Z for LOWER. */
    private static VectorMask<Byte> toChange(ByteVector v, boolean upper) {
        return v.sub(upper ? (byte) 'a' : (byte) 'A').compare(VectorOperators.ULT, (byte) 26);
    }

    @Override
    public long caseMapInPlace(MemorySegment segment, long offset, long length, boolean upper) {
        if (!segment.isNative()) {
            return HEAP.caseMapInPlace(segment, offset, length, upper);
        }
        VectorPaths.entered(VectorPaths.CASE_MAP_IN_PLACE, length);
        long end = offset + length;
        long endV = end - VL;
        // Phase 1, read only: first vector with a letter to change or a non-ASCII byte.
        long p = offset;
        while (p <= endV) {
            ByteVector v = load(segment, p);
            if (toChange(v, upper).or(v.compare(VectorOperators.LT, (byte) 0)).anyTrue()) {
                break;
            }
            p += VL;
        }
        if (p > endV) {
            while (p < end) { // tail of < VL bytes
                int b = segment.get(BYTE, p);
                if (b < 0 || (upper ? b >= 'a' && b <= 'z' : b >= 'A' && b <= 'Z')) {
                    break;
                }
                p++;
            }
            if (p == end) {
                return UNCHANGED;
            }
        }
        // [offset, p) maps to itself. Phase 2, read only: is there any non-ASCII from p on?
        long firstChange = p;
        long q = p + firstNonAscii(segment, p, end);
        if (q < end) {
            // Mixed text: the scalar mapper decides for [q, end); [firstChange, q) is ASCII.
            long scan = CaseMapping.scan(segment, q, end, upper);
            if (scan == CaseMapping.SCAN_SPECIAL) {
                return CaseMapping.caseMapInPlaceViaString(segment, offset, end, upper);
            }
            boolean asciiChanges = anyAsciiChange(segment, firstChange, q, upper);
            if ((scan & 1) == 0 && !asciiChanges) {
                return UNCHANGED;
            }
            long outLen = (q - offset) + (scan >>> 2);
            if (outLen != length) {
                return outLen;
            }
            if ((scan & 1) != 0 && !CaseMapping.rewrite(segment, q, end, upper, scan)) {
                return CaseMapping.caseMapInPlaceViaString(segment, offset, end, upper); // ill-formed
            }
            mapAsciiRun(segment, firstChange, q, upper, segment, firstChange);
            return IN_PLACE;
        }
        mapAsciiRun(segment, firstChange, end, upper, segment, firstChange);
        return IN_PLACE;
    }

    /** Offset of the first non-ASCII byte in {@code [p, end)} from p, or end - p. */
    private static long firstNonAscii(MemorySegment seg, long p, long end) {
        long q = p;
        long end4 = end - 4L * VL;
        while (q <= end4) {
            ByteVector v = load(seg, q).or(load(seg, q + VL)).or(load(seg, q + 2L * VL)).or(load(seg, q + 3L * VL));
            if (v.compare(VectorOperators.LT, (byte) 0).anyTrue()) {
                break;
            }
            q += 4L * VL;
        }
        return firstNegative(seg, q, end) + (q - p);
    }

    private static boolean anyAsciiChange(MemorySegment seg, long p, long end, boolean upper) {
        long q = p;
        for (; q <= end - VL; q += VL) {
            if (toChange(load(seg, q), upper).anyTrue()) {
                return true;
            }
        }
        for (; q < end; q++) {
            int b = seg.get(BYTE, q);
            if (upper ? b >= 'a' && b <= 'z' : b >= 'A' && b <= 'Z') {
                return true;
            }
        }
        return false;
    }

    /** Maps the ASCII bytes {@code src[p, end)} to {@code dst[d, ...)} (may be the same place). */
    private static void mapAsciiRun(MemorySegment src, long p, long end, boolean upper,
                                    MemorySegment dst, long d) {
        long q = p;
        long shift = d - p;
        for (; q <= end - VL; q += VL) {
            ByteVector v = load(src, q);
            // flip bit 0x20 of the letters to change; a..z -> A..Z or back
            v.lanewise(VectorOperators.XOR, (byte) 0x20, toChange(v, upper)).intoMemorySegment(dst, q + shift, NO);
        }
        for (; q < end; q++) {
            int b = src.get(BYTE, q);
            boolean change = upper ? b >= 'a' && b <= 'z' : b >= 'A' && b <= 'Z';
            dst.set(BYTE, q + shift, (byte) (change ? b ^ 0x20 : b));
        }
    }

    @Override
    public long caseMapTo(MemorySegment src, long srcOffset, long length, boolean upper,
                          MemorySegment dst, long dstOffset) {
        if (!src.isNative() || !dst.isNative()) {
            return HEAP.caseMapTo(src, srcOffset, length, upper, dst, dstOffset);
        }
        VectorPaths.entered(VectorPaths.CASE_MAP_TO, length);
        long end = srcOffset + length;
        long q = srcOffset + firstNonAscii(src, srcOffset, end);
        mapAsciiRun(src, srcOffset, q, upper, dst, dstOffset);
        if (q == end) {
            return length;
        }
        return CaseMapping.caseMapTo(src, srcOffset, q, end, upper, dst, dstOffset);
    }
}
