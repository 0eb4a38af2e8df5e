package dev.framepipe.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Plain-Java UTF-8 kernels: the fallback without the Vector API, and the benchmark yardstick. */
public final class ScalarTextKernels implements TextKernels {

    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;

    @Override
    public long validateUtf8(MemorySegment segment, long offset, long length) {
        long bad = Utf8.validate(segment, offset, offset + length);
        return bad < 0 ? -1 : bad - offset;
    }

    @Override
    public void count(MemorySegment segment, long offset, long length, CountResult out) {
        long codePoints = 0;
        long words = 0;
        long lines = 0;
        boolean prevSpace = true; // a word starts at a non-space preceded by space or the start
        long end = offset + length;
        for (long p = offset; p < end; p++) {
            int b = segment.get(BYTE, p);
            if ((b & 0xC0) != 0x80) {
                codePoints++;
            }
            if (b == '\n') {
                lines++;
            }
            boolean space = b == ' ' || (b >= 0x09 && b <= 0x0D);
            if (!space && prevSpace) {
                words++;
            }
            prevSpace = space;
        }
        out.bytes = length;
        out.codePoints = codePoints;
        out.words = words;
        out.lines = lines;
    }

    @Override
    public long caseMapInPlace(MemorySegment segment, long offset, long length, boolean upper) {
        return CaseMapping.caseMapInPlace(segment, offset, offset, offset + length, upper);
    }

    @Override
    public long caseMapTo(MemorySegment src, long srcOffset, long length, boolean upper,
                          MemorySegment dst, long dstOffset) {
        return CaseMapping.caseMapTo(src, srcOffset, srcOffset, srcOffset + length, upper, dst, dstOffset);
    }
}
