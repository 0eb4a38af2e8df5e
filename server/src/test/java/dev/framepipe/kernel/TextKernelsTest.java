package dev.framepipe.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.kernel.reference.ReferenceText;
import dev.framepipe.kernel.vector.VectorPaths;
import dev.framepipe.kernel.vector.VectorPaths.Op;
import dev.framepipe.codec.MemoryViews;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * UTF-8 validation, COUNT and UPPER/LOWER of every implementation against the references, on
 * the memory the pipeline gives them (pooled direct buffers, {@link Impls.Placed}); every call
 * of a vector kernel is checked to have run its vector code.
 */
@ExtendWith(Impls.VectorCallCheck.class)
class TextKernelsTest {

    static List<Impls.Named<TextKernels>> impls() {
        return Impls.text();
    }

    private static final HexFormat HEX = HexFormat.ofDelimiter(" ");

    private static long validate(TextKernels k, byte[] data, Random r) {
        try (Arena arena = Arena.ofConfined()) {
            Impls.Placed p = new Impls.Placed(arena, data, r.nextInt(Impls.ALIGNMENTS));
            return k.validateUtf8(p.seg, p.offset, p.len);
        }
    }

    // ---------------------------------------------------------------- validation

    @Test
    void referenceValidatorAgreesWithJdkDecoderOnAllShortSequences() {
        // every lead byte with every second byte; for 3/4-byte leads also boundary third/fourth bytes
        var decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        int[] tails = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xF4, 0xFF};
        java.nio.CharBuffer out = java.nio.CharBuffer.allocate(8);
        for (int a = 0; a < 256; a++) {
            for (int b = 0; b < 256; b++) {
                for (int c : a >= 0xE0 ? tails : new int[] {0x41}) {
                    for (int d : a >= 0xF0 ? tails : new int[] {0x41}) {
                        byte[] bytes = {(byte) a, (byte) b, (byte) c, (byte) d};
                        out.clear();
                        boolean jdkOk = !decoder.reset().decode(ByteBuffer.wrap(bytes), out, true).isError()
                                && !decoder.flush(out).isError();
                        assertThat(ReferenceText.validate(bytes, 0, 4) < 0).as(HEX.formatHex(bytes)).isEqualTo(jdkOk);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("impls")
    void validationMatchesReferenceOnAllSequencesOfUpToFourBytesAloneAndPastTheVectorWidth(Impls.Named<TextKernels> k) {
        // All 2-byte inputs exhaustively, and for 3/4-byte leads all second bytes x boundary
        // thirds and fourths. Each prefix of 1..4 bytes is validated alone (shorter than a vector:
        // only the kernels' scalar tail runs) and inside ASCII text of five vectors and a tail,
        // which runs both vector loops (four vectors a step, then single vectors) and the tail.
        // There the sequence's position moves from one input to the next over the places where
        // the vector code hands bytes to the scalar code: vector boundaries, the end of the
        // four-vector loop, the tail. ASCII around a sequence cannot change its verdict, so the
        // answer is the reference's for the sequence alone, moved by the position.
        int vl = VectorPaths.width(Op.VALIDATE_UTF8);
        int total = 5 * vl + 7;
        int[] positions = {0, 1, vl - 3, vl - 2, vl - 1, vl, vl + 1, 2 * vl - 1, 4 * vl - 3, 4 * vl - 1, 4 * vl,
            5 * vl - 2, 5 * vl, total - 4};
        int[] tails = {0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xE0, 0xF0, 0xFF};
        byte[] buf = new byte[6];
        byte[] ascii = new byte[total];
        Arrays.fill(ascii, (byte) 'a');
        long wideBefore = VectorPaths.wideCalls(Op.VALIDATE_UTF8);
        long embedded = 0;
        try (Arena arena = Arena.ofConfined()) {
            Impls.Placed alone = new Impls.Placed(arena, new byte[4], 0);
            Impls.Placed text = new Impls.Placed(arena, ascii, 1);
            for (int a = 0; a < 256; a++) {
                for (int b = 0; b < 256; b++) {
                    for (int c : a >= 0xE0 ? tails : new int[] {0x41}) {
                        for (int d : a >= 0xF0 ? tails : new int[] {0x41}) {
                            buf[0] = (byte) a;
                            buf[1] = (byte) b;
                            buf[2] = (byte) c;
                            buf[3] = (byte) d;
                            for (int len = 1; len <= 4; len++) {
                                long want = ReferenceText.validate(buf, 0, len);
                                MemorySegment.copy(buf, 0, alone.seg, ValueLayout.JAVA_BYTE, alone.offset, len);
                                assertThat(k.impl().validateUtf8(alone.seg, alone.offset, len))
                                        .as("%s bytes %s", k, HEX.formatHex(buf, 0, len)).isEqualTo(want);

                                int pos = positions[(int) (embedded++ % positions.length)];
                                MemorySegment.copy(buf, 0, text.seg, ValueLayout.JAVA_BYTE, text.offset + pos, len);
                                assertThat(k.impl().validateUtf8(text.seg, text.offset, total))
                                        .as("%s bytes %s at %d of %d ASCII bytes", k, HEX.formatHex(buf, 0, len), pos, total)
                                        .isEqualTo(want < 0 ? -1 : pos + want);
                                MemorySegment.copy(ascii, 0, text.seg, ValueLayout.JAVA_BYTE, text.offset + pos, len);
                            }
                        }
                    }
                }
            }
            assertThat(alone.guardsIntact()).isTrue();
            assertThat(text.guardsIntact()).isTrue();
        }
        if (k.name().equals("vector")) {
            assertThat(VectorPaths.wideCalls(Op.VALIDATE_UTF8) - wideBefore)
                    .as("calls past the vector width: every embedded one").isEqualTo(embedded);
        }
    }

    @ParameterizedTest
    @MethodSource("impls")
    void wellFormedTextOfAllScriptsIsAccepted(Impls.Named<TextKernels> k) {
        for (int iter = 0; iter < 300; iter++) {
            long seed = 500L + iter;
            Random r = new Random(seed);
            byte[] data = TextGen.utf8(TextGen.randomText(r, iter < 140 ? iter : r.nextInt(3000)));
            assertThat(validate(k.impl(), data, r)).as(k + " seed=" + seed).isEqualTo(-1);
        }
    }

    /** Ill-formed sequences of every kind; each must be reported at its first byte. */
    static final byte[][] BAD = {
        {(byte) 0x80},                                  // stray continuation
        {(byte) 0xBF},
        {(byte) 0xC0, (byte) 0x80},                     // overlong NUL
        {(byte) 0xC1, (byte) 0xBF},                     // overlong '\x7F'
        {(byte) 0xE0, (byte) 0x80, (byte) 0x80},        // overlong 3-byte
        {(byte) 0xE0, (byte) 0x9F, (byte) 0xBF},
        {(byte) 0xF0, (byte) 0x8F, (byte) 0xBF, (byte) 0xBF}, // overlong 4-byte
        {(byte) 0xED, (byte) 0xA0, (byte) 0x80},        // surrogate D800
        {(byte) 0xED, (byte) 0xBF, (byte) 0xBF},        // surrogate DFFF
        {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, // U+110000
        {(byte) 0xF5, (byte) 0x80, (byte) 0x80, (byte) 0x80},
        {(byte) 0xF8}, {(byte) 0xFE}, {(byte) 0xFF},
        {(byte) 0xC3},                                  // truncated 2-byte (followed by ASCII or end)
        {(byte) 0xE2, (byte) 0x82},                     // truncated 3-byte
        {(byte) 0xF0, (byte) 0x9F, (byte) 0x98},        // truncated 4-byte
        {(byte) 0xC3, (byte) 0xC3},                     // lead where continuation expected
        {(byte) 0xE2, (byte) 0x28, (byte) 0xA1},
    };

    @ParameterizedTest
    @MethodSource("impls")
    void everyKindOfIllFormedSequenceIsRejectedAtItsFirstByte(Impls.Named<TextKernels> k) {
        for (int iter = 0; iter < 1500; iter++) {
            long seed = 9000L + iter;
            Random r = new Random(seed);
            byte[] bad = BAD[iter % BAD.length];
            int n = iter < 400 ? iter / BAD.length * 3 : r.nextInt(3000);
            byte[] prefix = TextGen.utf8(TextGen.randomText(r, n));
            byte[] suffix = TextGen.utf8(iter % 3 == 0 ? "" : TextGen.randomText(r, r.nextInt(200)));
            byte[] data = new byte[prefix.length + bad.length + suffix.length];
            System.arraycopy(prefix, 0, data, 0, prefix.length);
            System.arraycopy(bad, 0, data, prefix.length, bad.length);
            System.arraycopy(suffix, 0, data, prefix.length + bad.length, suffix.length);
            // a truncated sequence followed by a continuation byte would be well-formed: skip those
            int want = ReferenceText.validate(data, 0, data.length);
            if (suffix.length == 0 || (suffix[0] & 0xC0) != 0x80) {
                assertThat(want).as("seed=" + seed).isEqualTo(prefix.length);
            }
            assertThat(validate(k.impl(), data, r)).as(k + " seed=" + seed + " bad=" + HEX.formatHex(bad))
                    .isEqualTo(want);
        }
    }

    @ParameterizedTest
    @MethodSource("impls")
    void randomByteSoupIsJudgedLikeTheReference(Impls.Named<TextKernels> k) {
        for (int iter = 0; iter < 3000; iter++) {
            long seed = 77_000L + iter;
            Random r = new Random(seed);
            byte[] data = TextGen.utf8(TextGen.randomText(r, r.nextInt(iter < 1500 ? 40 : 400)));
            int flips = r.nextInt(3);
            for (int f = 0; f < flips && data.length > 0; f++) {
                data[r.nextInt(data.length)] = (byte) r.nextInt(256);
            }
            assertThat(validate(k.impl(), data, r)).as(k + " seed=" + seed)
                    .isEqualTo(ReferenceText.validate(data, 0, data.length));
        }
    }

    // ---------------------------------------------------------------- COUNT

    @ParameterizedTest
    @MethodSource("impls")
    void countMatchesReference(Impls.Named<TextKernels> k) {
        CountResult out = new CountResult();
        for (int iter = 0; iter < 600; iter++) {
            long seed = 3000L + iter;
            Random r = new Random(seed);
            byte[] data = TextGen.utf8(TextGen.randomText(r, iter <= 200 ? iter : r.nextInt(5000)));
            if (iter % 5 == 0) { // runs of white space of every kind, at both ends too
                for (int i = 0; i < data.length; i++) {
                    if (r.nextInt(3) == 0) {
                        data[i] = (byte) " \t\n\u000b\f\r".charAt(r.nextInt(6));
                    }
                }
                data = new String(data, StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8);
            }
            try (Arena arena = Arena.ofConfined()) {
                Impls.Placed p = new Impls.Placed(arena, data, r.nextInt(Impls.ALIGNMENTS));
                out.clear();
                k.impl().count(p.seg, p.offset, p.len, out);
            }
            long[] want = ReferenceText.count(data, 0, data.length);
            assertThat(new long[] {out.bytes, out.codePoints, out.words, out.lines})
                    .as(k + " seed=" + seed).containsExactly(want);
        }
    }

    @ParameterizedTest
    @MethodSource("impls")
    void countFollowsTheProtocolOnKnownText(Impls.Named<TextKernels> k) {
        byte[] data = TextGen.utf8("  héllo wörld\n\tΣίσυφος 😀x\u000b\u000cend\r\n");
        try (Arena arena = Arena.ofConfined()) {
            Impls.Placed p = new Impls.Placed(arena, data, 0);
            CountResult out = new CountResult();
            k.impl().count(p.seg, p.offset, data.length, out);
            assertThat(out.bytes).isEqualTo(data.length);
            assertThat(out.codePoints).isEqualTo(new String(data, StandardCharsets.UTF_8).codePointCount(0,
                    new String(data, StandardCharsets.UTF_8).length()));
            assertThat(out.words).isEqualTo(5); // héllo wörld Σίσυφος 😀x end
            assertThat(out.lines).isEqualTo(2);
        }
    }

    // ---------------------------------------------------------------- UPPER / LOWER

    /** Checks caseMapInPlace path semantics and caseMapTo against String for one text. */
    static void checkCaseMap(TextKernels k, byte[] data, boolean upper, Random r, String ctx) {
        byte[] want = ReferenceText.caseMap(data, 0, data.length, upper);
        String c = ctx + (upper ? " UPPER " : " LOWER ");
        try (Arena arena = Arena.ofConfined()) {
            int align = r.nextInt(Impls.ALIGNMENTS);
            c += "align=" + align + " ";
            Impls.Placed p = new Impls.Placed(arena, data, align);
            boolean unchanged = Arrays.equals(want, data);
            boolean sameLength = want.length == data.length;
            long res;
            if (!sameLength || unchanged) {
                // the input must not be written at all: a read-only view proves it
                res = k.caseMapInPlace(p.seg.asReadOnly(), p.offset, p.len, upper);
            } else {
                res = k.caseMapInPlace(p.seg, p.offset, p.len, upper);
            }
            if (unchanged) {
                assertThat(res).as(c).isEqualTo(TextKernels.UNCHANGED);
            } else if (sameLength) {
                assertThat(res).as(c).isEqualTo(TextKernels.IN_PLACE);
                assertThat(p.data()).as(c + "in-place text").isEqualTo(want);
            } else {
                assertThat(res).as(c).isEqualTo(want.length);
            }
            assertThat(p.guardsIntact()).as(c + "guards").isTrue();

            Impls.Placed src = new Impls.Placed(arena, data, r.nextInt(Impls.ALIGNMENTS));
            Impls.Placed dst = new Impls.Placed(arena, new byte[want.length], r.nextInt(Impls.ALIGNMENTS));
            long written = k.caseMapTo(src.seg.asReadOnly(), src.offset, src.len, upper, dst.seg, dst.offset);
            assertThat(written).as(c + "caseMapTo length").isEqualTo(want.length);
            assertThat(dst.data()).as(c + "caseMapTo bytes").isEqualTo(want);
            assertThat(dst.guardsIntact()).as(c + "caseMapTo guards").isTrue();
        }
    }

    @ParameterizedTest
    @MethodSource("impls")
    void caseMappingEqualsStringForRandomTextOfManyScripts(Impls.Named<TextKernels> k) {
        for (int iter = 0; iter < 1500; iter++) {
            long seed = 12_000L + iter;
            Random r = new Random(seed);
            String s = TextGen.randomText(r, iter <= 260 ? iter / 2 : r.nextInt(iter % 10 == 0 ? 5000 : 300));
            if (iter % 4 == 1) {
                s = r.nextBoolean() ? s.toUpperCase(java.util.Locale.ROOT) : s.toLowerCase(java.util.Locale.ROOT);
            }
            checkCaseMap(k.impl(), TextGen.utf8(s), r.nextBoolean(), r, k + " seed=" + seed);
        }
    }

    @ParameterizedTest
    @MethodSource("impls")
    void caseMappingEqualsStringForEveryCodePoint(Impls.Named<TextKernels> k) {
        // every scalar value, in blocks of 512 separated by spaces and letters (context for Σ)
        Random r = new Random(1);
        StringBuilder sb = new StringBuilder();
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            if (cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE) {
                continue;
            }
            sb.appendCodePoint(cp);
            if (cp % 3 == 0) {
                sb.append(cp % 2 == 0 ? ' ' : 'a');
            }
            if (sb.length() > 1500 || cp == Character.MAX_CODE_POINT) {
                byte[] data = TextGen.utf8(sb.toString());
                checkCaseMap(k.impl(), data, true, r, k + " block ending U+" + Integer.toHexString(cp));
                checkCaseMap(k.impl(), data, false, r, k + " block ending U+" + Integer.toHexString(cp));
                sb.setLength(0);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("impls")
    void specialCasingCasesMatchString(Impls.Named<TextKernels> k) {
        String[] texts = {
            "straße", "STRASSE", "ΟΔΟΣ ΟΔΟΣ.", "ΣΑΣ Σ ΑΣ", "İstanbul", "ıi", "ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ", "ﬓﬔﬕﬖﬗ և",
            "ŉ ǰ ΐ ΰ ẖẗẘẙẚ", "ᾳ ᾼ ῌ ῳ ᾀ", "Kelvin K Ohm Ω Å", "ȺȾ ⱥⱦ", "ǅ ǈ ǋ ǲ", "I\u0307", "Σ\u0301",
            "a\u0345", "𐐀𐐨 𞤀𞤢", "ÿŸ", "µ", "ΑΣ\u0308", "ΆΣ1", "aΣb", "Σ",
        };
        Random r = new Random(2);
        for (String t : texts) {
            for (boolean upper : new boolean[] {true, false}) {
                checkCaseMap(k.impl(), TextGen.utf8(t), upper, r, k + " '" + t + "'");
                checkCaseMap(k.impl(), TextGen.utf8("x".repeat(70) + t + "y".repeat(70)), upper, r, k + " padded '" + t + "'");
            }
        }
    }

    /** Code points whose simple mapping has another UTF-8 length (ı→I, Ⱥ→ⱥ, K→k…). */
    static int[] lengthChanging(boolean upper) {
        return java.util.stream.IntStream.rangeClosed(0x80, Character.MAX_CODE_POINT)
                .filter(cp -> !Character.isSurrogate((char) cp) || cp > 0xFFFF)
                .filter(cp -> !CaseMapping.isSpecial(cp, upper))
                .filter(cp -> {
                    int m = upper ? Character.toUpperCase(cp) : Character.toLowerCase(cp);
                    return Character.toString(m).getBytes(StandardCharsets.UTF_8).length
                            != Character.toString(cp).getBytes(StandardCharsets.UTF_8).length;
                })
                .toArray();
    }

    @ParameterizedTest
    @MethodSource("impls")
    void inPlaceRewriteWhereCodePointsGrowAndShrinkButTotalLengthIsKept(Impls.Named<TextKernels> k) {
        for (boolean upper : new boolean[] {true, false}) {
            int[] odd = lengthChanging(upper);
            assertThat(odd).isNotEmpty();
            int kept = 0;
            for (int iter = 0; iter < 3000; iter++) {
                long seed = 55_000L + iter;
                Random r = new Random(seed);
                StringBuilder sb = new StringBuilder();
                int n = 1 + r.nextInt(iter < 1000 ? 8 : 80);
                for (int i = 0; i < n; i++) {
                    switch (r.nextInt(4)) {
                        case 0 -> sb.append((char) ('a' + r.nextInt(26)));
                        case 1 -> sb.appendCodePoint(TextGen.randomCodePoint(r, TextGen.SCRIPTS));
                        default -> sb.appendCodePoint(odd[r.nextInt(odd.length)]);
                    }
                }
                byte[] data = TextGen.utf8(sb.toString());
                if (ReferenceText.caseMap(data, 0, data.length, upper).length == data.length) {
                    kept++;
                }
                checkCaseMap(k.impl(), data, upper, r, k + " seed=" + seed);
            }
            assertThat(kept).as("enough same-length cases were generated").isGreaterThan(50);
        }
    }

    @ParameterizedTest
    @MethodSource("impls")
    void caseMappingOfLargeAsciiTextMatchesString(Impls.Named<TextKernels> k) {
        Random r = new Random(31);
        for (int iter = 0; iter < 20; iter++) {
            StringBuilder sb = new StringBuilder();
            int n = 60_000 + r.nextInt(10_000);
            for (int i = 0; i < n; i++) {
                sb.append((char) (0x20 + r.nextInt(95)));
            }
            if (iter % 2 == 1) { // a single non-ASCII code point far in
                sb.insert(r.nextInt(n), iter % 4 == 1 ? "É" : "ß");
            }
            String s = sb.toString();
            for (boolean upper : new boolean[] {true, false}) {
                checkCaseMap(k.impl(), TextGen.utf8(s), upper, r, k + " iter=" + iter);
                String mapped = upper ? s.toUpperCase(java.util.Locale.ROOT) : s.toLowerCase(java.util.Locale.ROOT);
                checkCaseMap(k.impl(), TextGen.utf8(mapped), upper, r, k + " premapped iter=" + iter);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("impls")
    void textKernelsDoNotAllocateOnTheCommonPaths(Impls.Named<TextKernels> k) {
        byte[] ascii = TextGen.utf8("Hello, World! The quick brown fox jumps over the lazy dog. ".repeat(100));
        byte[] greek = TextGen.utf8("Καλημέρα κόσμε, ΚΑΛΗΜΈΡΑ ıi Kelvin K Ⱥ ".repeat(40));
        try (Arena arena = Arena.ofConfined()) {
            Impls.Placed a = new Impls.Placed(arena, ascii, 0);
            Impls.Placed g = new Impls.Placed(arena, greek, 3);
            Impls.Placed dst = new Impls.Placed(arena, new byte[10_000], 5);
            MemorySegment mem = MemoryViews.NATIVE; // where the pipeline's frames are (Placed.seg)
            long at = a.offset;
            long gt = g.offset;
            long dt = dst.offset;
            CountResult out = new CountResult();
            Runnable work = () -> {
                k.impl().validateUtf8(mem, at, ascii.length);
                k.impl().validateUtf8(mem, gt, greek.length);
                k.impl().count(mem, at, ascii.length, out);
                k.impl().count(mem, gt, greek.length, out);
                for (int u = 0; u < 2; u++) { // no boolean[] here: the test counts allocations
                    boolean upper = u == 0;
                    k.impl().caseMapInPlace(mem, at, ascii.length, upper);
                    k.impl().caseMapInPlace(mem, gt, greek.length, upper);
                    k.impl().caseMapTo(mem, gt, greek.length, upper, mem, dt);
                }
            };
            long allocated = dev.framepipe.testing.SteadyState.allocatedBytes(work, 3000, 200, 10, 0);
            assertThat(allocated).as(k + " bytes allocated by 200 rounds").isLessThan(1000);
        }
    }
}
