package dev.framepipe.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * UPPER/LOWER of UTF-8 text with exactly the result of {@code String.toUpperCase/toLowerCase
 * (Locale.ROOT)}, without decoding to a String.
 *
 * <p>Each code point maps through {@link Character#toUpperCase(int)} / {@link
 * Character#toLowerCase(int)}, which equals the String mapping except for a small set of code
 * points ("special": one-to-many mappings such as ß → SS, and U+0130 → i̇ for LOWER) and for
 * the context-dependent final sigma (U+03A3 for LOWER). The special set is computed once, on
 * first use, by comparing both mappings over every code point, so it follows the running JDK's
 * Unicode version. A text containing a special code point takes the rare slow path through
 * {@link String} (the only path that allocates).
 *
 * <p>Used by the scalar kernels for everything and by the vector kernels past the first
 * non-ASCII byte. Positions are absolute byte offsets into the segment.
 */
public final class CaseMapping {

    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;

    private CaseMapping() {
    }

    /**
     * Lazily built bit sets of code points whose String mapping is not the simple mapping.
     *
     * <p>Only cased code points can map to anything (lower, upper or title case in Unicode's sense,
     * which {@link Character#isLowerCase(int)} and {@link Character#isUpperCase(int)} include, or
     * with a simple mapping): a few thousand of the 300,000 defined ones (CaseMappingTest checks
     * every code point of the running JDK). They are compared range by range: a range's code points
     * are mapped as one String and compared with their simple mappings, and only a range that
     * differs is halved, down to single code points. The special code points are few (about 150)
     * and clustered, so this takes a few hundred String calls instead of two Strings per code point
     * (a million calls, 0.2 s, that also kept the JIT busy during start-up). Mapping a range as one
     * String gives the same sets: in the root locale no mapping depends on its neighbours except the
     * final sigma (added below), and as each code point maps to at least one code point and its
     * simple mapping to exactly one, equal concatenations mean equal mappings one by one.
     */
    private static final class Special {
        static final long[] UPPER;
        static final long[] LOWER;
        /** The first halving: ranges of this many cased code points. */
        private static final int RANGE = 256;

        static {
            int[] cased = cased();
            UPPER = find(cased, true);
            LOWER = find(cased, false);
        }

        /** The code points from U+0080 that are cased or have a simple case mapping. */
        private static int[] cased() {
            int[] cased = new int[8192];
            int n = 0;
            for (int cp = 0x80; cp <= Character.MAX_CODE_POINT; cp++) {
                // Most code points are unassigned or private use: one look-up each rules them out.
                int type = Character.getType(cp);
                if (type != Character.UNASSIGNED && type != Character.PRIVATE_USE && type != Character.SURROGATE
                        && (Character.isLowerCase(cp) || Character.isUpperCase(cp) || Character.isTitleCase(cp)
                        || Character.toUpperCase(cp) != cp || Character.toLowerCase(cp) != cp)) {
                    if (n == cased.length) {
                        cased = Arrays.copyOf(cased, 2 * n);
                    }
                    cased[n++] = cp;
                }
            }
            return Arrays.copyOf(cased, n);
        }

        private static long[] find(int[] cased, boolean upper) {
            long[] bits = new long[(Character.MAX_CODE_POINT + 1) >>> 6];
            for (int from = 0; from < cased.length; from += RANGE) {
                mark(cased, from, Math.min(cased.length, from + RANGE), upper, bits);
            }
            if (!upper) {
                // Final sigma: "Σ" alone lowers to σ, but to ς at the end of a word.
                bits[0x03A3 >>> 6] |= 1L << 0x03A3;
            }
            int last = bits.length - 1;
            while (last >= 0 && bits[last] == 0) {
                last--;
            }
            return Arrays.copyOf(bits, last + 1);
        }

        /** Sets the bits of {@code cased[from, to)} whose String mapping is not the simple one. */
        private static void mark(int[] cased, int from, int to, boolean upper, long[] bits) {
            StringBuilder text = new StringBuilder();
            StringBuilder simple = new StringBuilder();
            for (int i = from; i < to; i++) {
                int cp = cased[i];
                text.appendCodePoint(cp);
                simple.appendCodePoint(upper ? Character.toUpperCase(cp) : Character.toLowerCase(cp));
            }
            String s = text.toString();
            if ((upper ? s.toUpperCase(Locale.ROOT) : s.toLowerCase(Locale.ROOT)).contentEquals(simple)) {
                return;
            }
            if (to - from == 1) {
                bits[cased[from] >>> 6] |= 1L << cased[from];
                return;
            }
            int middle = (from + to) >>> 1;
            mark(cased, from, middle, upper, bits);
            mark(cased, middle, to, upper, bits);
        }
    }

    /** Builds the special-casing tables now (a few tens of milliseconds) instead of on the first non-ASCII text. */
    public static void warmUp() {
        if (Special.UPPER.length == 0) {
            throw new AssertionError();
        }
    }

    /** True when {@code cp} needs the String path (context or one-to-many mapping). */
    public static boolean isSpecial(int cp, boolean upper) {
        long[] bits = upper ? Special.UPPER : Special.LOWER;
        int word = cp >>> 6;
        return word < bits.length && (bits[word] & 1L << cp) != 0;
    }

    /** Simple (one-to-one) mapping of a code point; raw ill-formed bytes map to themselves. */
    static int mapSimple(int cp, boolean upper) {
        if (cp >= Utf8.RAW) {
            return cp;
        }
        return upper ? Character.toUpperCase(cp) : Character.toLowerCase(cp);
    }

    static int mapAscii(int b, boolean upper) {
        return upper ? (b >= 'a' && b <= 'z' ? b - 32 : b) : (b >= 'A' && b <= 'Z' ? b + 32 : b);
    }

    /** {@link #scan} result: the text holds a code point that needs the String path. */
    public static final long SCAN_SPECIAL = -1;

    /**
     * Read-only pass over {@code [from, end)}: the mapped length and whether anything changes.
     *
     * @return {@link #SCAN_SPECIAL}, or {@code mappedLength << 2 | (changed ? 1 : 0) |
     *     (someCodePointChangesLength ? 2 : 0)}
     */
    public static long scan(MemorySegment seg, long from, long end, boolean upper) {
        long outLen = 0;
        boolean changed = false;
        boolean lengthChanges = false;
        long p = from;
        while (p < end) {
            int b = seg.get(BYTE, p);
            if (b >= 0) {
                changed |= mapAscii(b, upper) != b;
                outLen++;
                p++;
                continue;
            }
            int dec = Utf8.decode(seg, p, end);
            int cp = dec >>> 3;
            int n = dec & 7;
            if (cp < Utf8.RAW && isSpecial(cp, upper)) {
                return SCAN_SPECIAL;
            }
            int m = mapSimple(cp, upper);
            int ml = Utf8.encodedLength(m);
            changed |= m != cp;
            lengthChanges |= ml != n;
            outLen += ml;
            p += n;
        }
        return outLen << 2 | (changed ? 1 : 0) | (lengthChanges ? 2 : 0);
    }

    /**
     * Rewrites {@code [from, end)} in place after {@link #scan} found its mapped length equal to
     * its length; {@code scanResult} is what scan returned.
     *
     * @return false when the text turned out ill-formed (only possible without validation);
     *     nothing was written then
     */
    public static boolean rewrite(MemorySegment seg, long from, long end, boolean upper, long scanResult) {
        if ((scanResult & 2) == 0) {
            rewriteSameLengths(seg, from, end, upper);
            return true;
        }
        if (Utf8.validate(seg, from, end) >= 0) {
            return false; // rewriteShifting decodes backwards, which needs well-formed text
        }
        rewriteShifting(seg, from, end, upper);
        return true;
    }

    /**
     * {@link TextKernels#caseMapInPlace} for {@code [start, end)} when {@code [start, from)}
     * is already known to map to itself (the vector kernels pass the end of their ASCII
     * prefix; scalar callers pass {@code from == start}).
     */
    public static long caseMapInPlace(MemorySegment seg, long start, long from, long end, boolean upper) {
        long scan = scan(seg, from, end, upper);
        if (scan == SCAN_SPECIAL) {
            return viaString(seg, start, end, upper);
        }
        if ((scan & 1) == 0) {
            return TextKernels.UNCHANGED;
        }
        long outLen = (from - start) + (scan >>> 2);
        if (outLen != end - start) {
            return outLen;
        }
        if (!rewrite(seg, from, end, upper, scan)) {
            return viaString(seg, start, end, upper); // ill-formed input: String path is safe
        }
        return TextKernels.IN_PLACE;
    }

    /** The rare path for a whole text: decode to a String and let the JDK special-case it. */
    public static long caseMapInPlaceViaString(MemorySegment seg, long start, long end, boolean upper) {
        return viaString(seg, start, end, upper);
    }

    /** In-place rewrite when every code point keeps its byte length. */
    private static void rewriteSameLengths(MemorySegment seg, long from, long end, boolean upper) {
        long p = from;
        while (p < end) {
            int b = seg.get(BYTE, p);
            if (b >= 0) {
                int m = mapAscii(b, upper);
                if (m != b) {
                    seg.set(BYTE, p, (byte) m);
                }
                p++;
                continue;
            }
            int dec = Utf8.decode(seg, p, end);
            int cp = dec >>> 3;
            int m = mapSimple(cp, upper);
            if (m != cp) {
                Utf8.encode(seg, p, m);
            }
            p += dec & 7;
        }
    }

    /**
     * In-place rewrite of valid text whose total length is kept although single code points
     * grow or shrink (e.g. ı → I, Ⱥ → ⱥ). With d = bytes written − bytes read so far, a
     * code point may be written forwards while d stays ≤ 0; a run where d &gt; 0 would
     * overwrite unread input, so that run (up to where d comes back to ≤ 0) is written
     * backwards from its end instead, where it only overwrites bytes already read.
     */
    private static void rewriteShifting(MemorySegment seg, long from, long end, boolean upper) {
        long r = from;
        long d = 0;
        while (r < end) {
            int dec = Utf8.decode(seg, r, end);
            int n = dec & 7;
            int m = mapSimple(dec >>> 3, upper);
            int ml = Utf8.encodedLength(m);
            if (d + ml - n <= 0) {
                Utf8.encode(seg, r + d, m);
                d += ml - n;
                r += n;
                continue;
            }
            long q = r;
            long dq = d;
            do { // find the end of the run where the write position is ahead of the read one
                int dd = Utf8.decode(seg, q, end);
                int nn = dd & 7;
                dq += Utf8.encodedLength(mapSimple(dd >>> 3, upper)) - nn;
                q += nn;
            } while (dq > 0);
            long w = q + dq;
            long rq = q;
            while (rq > r) {
                long ps = Utf8.previousStart(seg, rq, r);
                int dd = Utf8.decode(seg, ps, rq);
                int mm = mapSimple(dd >>> 3, upper);
                w -= Utf8.encodedLength(mm);
                Utf8.encode(seg, w, mm);
                rq = ps;
            }
            d = dq;
            r = q;
        }
    }

    /**
     * {@link TextKernels#caseMapTo} for {@code [start, end)}, where {@code [start, from)} is
     * ASCII and its mapping has already been written to {@code dst[dstStart, ...)}.
     *
     * @return total bytes written from {@code dstStart}
     */
    public static long caseMapTo(MemorySegment src, long start, long from, long end, boolean upper,
                                 MemorySegment dst, long dstStart) {
        long w = dstStart + (from - start);
        long p = from;
        while (p < end) {
            int b = src.get(BYTE, p);
            if (b >= 0) {
                dst.set(BYTE, w++, (byte) mapAscii(b, upper));
                p++;
                continue;
            }
            int dec = Utf8.decode(src, p, end);
            int cp = dec >>> 3;
            if (cp < Utf8.RAW && isSpecial(cp, upper)) {
                byte[] mapped = mapViaString(src, start, end, upper);
                MemorySegment.copy(mapped, 0, dst, BYTE, dstStart, mapped.length);
                return mapped.length;
            }
            w += Utf8.encode(dst, w, mapSimple(cp, upper));
            p += dec & 7;
        }
        return w - dstStart;
    }

    /** The rare path: decode to a String and let the JDK apply special casing. */
    private static long viaString(MemorySegment seg, long start, long end, boolean upper) {
        byte[] mapped = mapViaString(seg, start, end, upper);
        long length = end - start;
        if (mapped.length != length) {
            return mapped.length;
        }
        if (MemorySegment.mismatch(MemorySegment.ofArray(mapped), 0, length, seg, start, end) < 0) {
            return TextKernels.UNCHANGED;
        }
        MemorySegment.copy(mapped, 0, seg, BYTE, start, mapped.length);
        return TextKernels.IN_PLACE;
    }

    private static byte[] mapViaString(MemorySegment seg, long start, long end, boolean upper) {
        byte[] bytes = new byte[Math.toIntExact(end - start)];
        MemorySegment.copy(seg, BYTE, start, bytes, 0, bytes.length);
        String s = new String(bytes, StandardCharsets.UTF_8);
        String mapped = upper ? s.toUpperCase(Locale.ROOT) : s.toLowerCase(Locale.ROOT);
        return mapped.getBytes(StandardCharsets.UTF_8);
    }
}
