package dev.framepipe.kernel.reference;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Obviously-correct text kernels: validation straight from the RFC 3629 definition (decode a
 * sequence, accept it only if it is the shortest encoding of a scalar value), COUNT by byte
 * classes, UPPER/LOWER through {@link String}.
 */
public final class ReferenceText {

    private ReferenceText() {
    }

    /** -1 when well-formed, else the index of the first byte of the first ill-formed sequence. */
    public static int validate(byte[] b, int from, int to) {
        int i = from;
        while (i < to) {
            int lead = b[i] & 0xFF;
            int len;
            int cp;
            if (lead < 0x80) {
                len = 1;
                cp = lead;
            } else if ((lead & 0xE0) == 0xC0) {
                len = 2;
                cp = lead & 0x1F;
            } else if ((lead & 0xF0) == 0xE0) {
                len = 3;
                cp = lead & 0x0F;
            } else if ((lead & 0xF8) == 0xF0) {
                len = 4;
                cp = lead & 0x07;
            } else {
                return i;
            }
            if (i + len > to) {
                return i;
            }
            for (int k = 1; k < len; k++) {
                int c = b[i + k] & 0xFF;
                if ((c & 0xC0) != 0x80) {
                    return i;
                }
                cp = cp << 6 | c & 0x3F;
            }
            boolean scalar = cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
            int shortest = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            if (!scalar || shortest != len) {
                return i;
            }
            i += len;
        }
        return -1;
    }

    /** {bytes, code points, words, lines}. */
    public static long[] count(byte[] b, int from, int to) {
        long cps = 0;
        long words = 0;
        long lines = 0;
        boolean inWord = false;
        for (int i = from; i < to; i++) {
            int c = b[i] & 0xFF;
            if (c < 0x80 || c >= 0xC0) {
                cps++;
            }
            if (c == 0x0A) {
                lines++;
            }
            boolean ws = c == 0x20 || (c >= 0x09 && c <= 0x0D);
            if (!ws && !inWord) {
                words++;
            }
            inWord = !ws;
        }
        return new long[] {to - from, cps, words, lines};
    }

    public static byte[] caseMap(byte[] b, int from, int to, boolean upper) {
        String s = new String(b, from, to - from, StandardCharsets.UTF_8);
        return (upper ? s.toUpperCase(Locale.ROOT) : s.toLowerCase(Locale.ROOT)).getBytes(StandardCharsets.UTF_8);
    }
}
