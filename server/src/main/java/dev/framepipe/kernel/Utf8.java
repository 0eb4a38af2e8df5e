package dev.framepipe.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Scalar UTF-8 building blocks shared by the scalar kernels and the non-ASCII paths of the
 * vector kernels. Positions are absolute byte offsets into the segment.
 */
public final class Utf8 {

    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;

    /** Marker bit of a decoded "code point" that is really a raw ill-formed byte. */
    static final int RAW = 0x200000;

    private Utf8() {
    }

    /**
     * Strict RFC 3629 validation of {@code [from, end)}.
     *
     * @return -1 when well-formed, otherwise the absolute position of the first byte of the
     *     first ill-formed sequence
     */
    public static long validate(MemorySegment seg, long from, long end) {
        long r = validateSome(seg, from, end, end);
        return r >= 0 ? -1 : ~r;
    }

    /**
     * Validates the sequences that start in {@code [from, limit)} of text ending at
     * {@code end}; {@code from} must be a sequence boundary.
     *
     * @return the position just after the last of them (&ge; {@code limit}, a sequence
     *     boundary), or {@code ~position} of the first ill-formed sequence (negative)
     */
    public static long validateSome(MemorySegment seg, long from, long limit, long end) {
        long i = from;
        while (i < limit) {
            int b = seg.get(BYTE, i);
            if (b >= 0) {
                i++;
                continue;
            }
            b &= 0xFF;
            if (b < 0xC2) { // continuation byte, or C0/C1 (always overlong)
                return ~i;
            }
            if (b < 0xE0) {
                if (i + 1 >= end || !isCont(seg.get(BYTE, i + 1))) {
                    return ~i;
                }
                i += 2;
            } else if (b < 0xF0) {
                if (i + 2 >= end) {
                    return ~i;
                }
                int c1 = seg.get(BYTE, i + 1) & 0xFF;
                // E0 needs A0..BF (else overlong), ED needs 80..9F (else a surrogate)
                int lo = b == 0xE0 ? 0xA0 : 0x80;
                int hi = b == 0xED ? 0x9F : 0xBF;
                if (c1 < lo || c1 > hi || !isCont(seg.get(BYTE, i + 2))) {
                    return ~i;
                }
                i += 3;
            } else if (b < 0xF5) {
                if (i + 3 >= end) {
                    return ~i;
                }
                int c1 = seg.get(BYTE, i + 1) & 0xFF;
                // F0 needs 90..BF (else overlong), F4 needs 80..8F (else above U+10FFFF)
                int lo = b == 0xF0 ? 0x90 : 0x80;
                int hi = b == 0xF4 ? 0x8F : 0xBF;
                if (c1 < lo || c1 > hi || !isCont(seg.get(BYTE, i + 2)) || !isCont(seg.get(BYTE, i + 3))) {
                    return ~i;
                }
                i += 4;
            } else {
                return ~i;
            }
        }
        return i;
    }

    private static boolean isCont(byte b) {
        return (b & 0xC0) == 0x80;
    }

    /**
     * Decodes the sequence at {@code pos} (&lt; {@code end}) of text assumed well-formed.
     * An ill-formed or truncated lead decodes as one raw byte (cp {@code RAW | byte}), so a
     * caller that skipped validation never reads past {@code end}.
     *
     * @return {@code (cp << 3) | sequenceLength}
     */
    static int decode(MemorySegment seg, long pos, long end) {
        int b = seg.get(BYTE, pos);
        if (b >= 0) {
            return b << 3 | 1;
        }
        b &= 0xFF;
        if (b >= 0xC0 && b < 0xE0 && pos + 1 < end) {
            return ((b & 0x1F) << 6 | seg.get(BYTE, pos + 1) & 0x3F) << 3 | 2;
        }
        if (b >= 0xE0 && b < 0xF0 && pos + 2 < end) {
            return ((b & 0x0F) << 12 | (seg.get(BYTE, pos + 1) & 0x3F) << 6
                    | seg.get(BYTE, pos + 2) & 0x3F) << 3 | 3;
        }
        if (b >= 0xF0 && b < 0xF8 && pos + 3 < end) {
            return ((b & 0x07) << 18 | (seg.get(BYTE, pos + 1) & 0x3F) << 12
                    | (seg.get(BYTE, pos + 2) & 0x3F) << 6 | seg.get(BYTE, pos + 3) & 0x3F) << 3 | 4;
        }
        return (RAW | b) << 3 | 1;
    }

    /** UTF-8 length of a code point (or 1 for a raw byte). */
    static int encodedLength(int cp) {
        if (cp < 0x80) {
            return 1;
        }
        if (cp < 0x800) {
            return 2;
        }
        if (cp < 0x10000) {
            return 3;
        }
        return cp < RAW ? 4 : 1;
    }

    /** Writes {@code cp} (or a raw byte) at {@code pos}; returns the bytes written. */
    static int encode(MemorySegment seg, long pos, int cp) {
        if (cp < 0x80) {
            seg.set(BYTE, pos, (byte) cp);
            return 1;
        }
        if (cp < 0x800) {
            seg.set(BYTE, pos, (byte) (0xC0 | cp >>> 6));
            seg.set(BYTE, pos + 1, (byte) (0x80 | cp & 0x3F));
            return 2;
        }
        if (cp < 0x10000) {
            seg.set(BYTE, pos, (byte) (0xE0 | cp >>> 12));
            seg.set(BYTE, pos + 1, (byte) (0x80 | cp >>> 6 & 0x3F));
            seg.set(BYTE, pos + 2, (byte) (0x80 | cp & 0x3F));
            return 3;
        }
        if (cp >= RAW) {
            seg.set(BYTE, pos, (byte) cp);
            return 1;
        }
        seg.set(BYTE, pos, (byte) (0xF0 | cp >>> 18));
        seg.set(BYTE, pos + 1, (byte) (0x80 | cp >>> 12 & 0x3F));
        seg.set(BYTE, pos + 2, (byte) (0x80 | cp >>> 6 & 0x3F));
        seg.set(BYTE, pos + 3, (byte) (0x80 | cp & 0x3F));
        return 4;
    }

    /** Start of the sequence that ends just before {@code pos} (never before {@code start}). */
    static long previousStart(MemorySegment seg, long pos, long start) {
        long p = pos - 1;
        // at most 3 continuation bytes belong to one sequence
        while (p > start && p > pos - 4 && (seg.get(BYTE, p) & 0xC0) == 0x80) {
            p--;
        }
        return p;
    }
}
