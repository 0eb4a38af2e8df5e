package dev.framepipe.kernel;

import java.nio.charset.StandardCharsets;
import java.util.Random;

/** Random text from many scripts, including every case-mapping oddity the kernels must handle. */
final class TextGen {

    private TextGen() {
    }

    /** Code point ranges by script; each string draws from a few of them. */
    static final int[][] SCRIPTS = {
        {0x20, 0x7E},          // ASCII printable
        {0x09, 0x0D},          // ASCII white space
        {0xA0, 0xFF},          // Latin-1 (ß, ÿ whose upper is in Latin Extended-A, µ → Greek)
        {0x100, 0x24F},        // Latin Extended-A/B (ı, ſ, ŉ, ǰ, Ⱥ, DŽ/Dž/dž titlecase)
        {0x250, 0x2AF},        // IPA (ɐ ɑ ɒ: lower whose upper is 3 bytes)
        {0x300, 0x36F},        // combining marks (U+0345 has a case mapping)
        {0x370, 0x3FF},        // Greek incl. Σ, ΐ, ΰ
        {0x1F00, 0x1FFF},      // Greek Extended (ᾳ, ᾼ: one-to-many upper)
        {0x400, 0x52F},        // Cyrillic
        {0x531, 0x58F},        // Armenian incl. ligature և
        {0x10A0, 0x10FF},      // Georgian
        {0x1C90, 0x1CBF},      // Georgian Mtavruli
        {0x13A0, 0x13FF},      // Cherokee
        {0xAB70, 0xABBF},      // Cherokee small letters
        {0x1E00, 0x1EFF},      // Latin Extended Additional (ẞ, ẖ…ẚ)
        {0x2100, 0x214F},      // letterlike (Kelvin K, Ohm Ω, Å sign)
        {0x2C00, 0x2C7F},      // Glagolitic, Latin Extended-C (ⱥ ⱦ)
        {0xA640, 0xA7FF},      // Cyrillic Ext-B, Latin Ext-D (Ɦ Ɪ: 3-byte ↔ 2-byte)
        {0x4E00, 0x4FFF},      // CJK
        {0xAC00, 0xACFF},      // Hangul
        {0xFB00, 0xFB17},      // ligatures ﬀ ﬁ ﬂ ﬃ, Armenian ligatures
        {0xFF21, 0xFF5A},      // fullwidth Latin
        {0x10400, 0x1044F},    // Deseret
        {0x104B0, 0x104FF},    // Osage
        {0x1E900, 0x1E95F},    // Adlam
        {0x1F600, 0x1F64F},    // emoji
        {0x10FFF0, 0x10FFFF},  // last plane (unassigned, private use)
    };

    /** Code points with special behaviour, drawn often on purpose. */
    static final int[] ODD = {
        0xDF, 0x130, 0x131, 0x17F, 0x149, 0x1F0, 0x390, 0x3B0, 0x587, 0x1E96, 0x1E9E, 0x1F80, 0x1FB3,
        0x1FBC, 0xFB00, 0xFB01, 0xFB13, 0x3A3, 0x3C2, 0x3C3, 0x212A, 0x2126, 0x212B, 0x23A, 0x23E,
        0x250, 0x251, 0x2C65, 0x2C66, 0xA7AE, 0x26A, 0x1C4, 0x1C5, 0x1C6, 0x345, 0x307, 0x69, 0x49,
        0x10400, 0x10428, 0x1E900, 0x1E922, 0xB5, 0xFF, 0x178, 0x1F600,
    };

    static int randomCodePoint(Random r, int[][] pools) {
        if (r.nextInt(8) == 0) {
            return ODD[r.nextInt(ODD.length)];
        }
        int[] range = pools[r.nextInt(pools.length)];
        int cp = range[0] + r.nextInt(range[1] - range[0] + 1);
        return Character.isSurrogate((char) cp) && cp < 0x10000 ? 'x' : cp;
    }

    /** A random string of about {@code n} code points in a random mix of scripts. */
    static String randomText(Random r, int n) {
        int mode = r.nextInt(4);
        int[][] pools;
        if (mode == 0) {
            pools = new int[][] {SCRIPTS[0], SCRIPTS[0], SCRIPTS[0], SCRIPTS[1]}; // pure ASCII
        } else {
            int k = 1 + r.nextInt(4);
            pools = new int[k + (mode == 1 ? 6 : 0)][];
            for (int i = 0; i < k; i++) {
                pools[i] = SCRIPTS[r.nextInt(SCRIPTS.length)];
            }
            for (int i = k; i < pools.length; i++) {
                pools[i] = SCRIPTS[i % 2]; // mostly ASCII with some foreign words
            }
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int cp = mode == 0 ? SCRIPTS[0][0] + r.nextInt(95) : randomCodePoint(r, pools);
            if (mode == 0 && r.nextInt(12) == 0) {
                cp = r.nextBoolean() ? ' ' : '\n';
            }
            sb.appendCodePoint(cp);
        }
        return sb.toString();
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
