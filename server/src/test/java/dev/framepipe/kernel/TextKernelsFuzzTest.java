package dev.framepipe.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Fuzzes the text kernels the server uses ({@link Kernels#text()}: the vector implementation
 * when present, else the scalar one) against the JDK itself: validation against a strict
 * {@link CharsetDecoder} (REPORT on malformed input), UPPER and LOWER against
 * {@code String.toUpperCase/toLowerCase(Locale.ROOT)}, COUNT against its definition.
 */
class TextKernelsFuzzTest {

    private static final TextKernels KERNELS = Kernels.text();

    @FuzzTest(maxDuration = "60s")
    void utf8ValidationAndCaseMappingAgreeWithTheJdk(FuzzedDataProvider data) {
        boolean upper = data.consumeBoolean();
        int skew = data.consumeInt(0, 15);
        byte[] text = data.consumeRemainingAsBytes();
        byte[] placed = new byte[skew + text.length + 8];
        System.arraycopy(text, 0, placed, skew, text.length);
        MemorySegment seg = MemorySegment.ofArray(placed);

        int jdkBad = firstMalformed(text);
        long bad = KERNELS.validateUtf8(seg, skew, text.length);
        assertThat(bad).as("first ill-formed byte (JDK says %d)", jdkBad).isEqualTo(jdkBad);
        if (jdkBad >= 0) {
            return;
        }
        String decoded = new String(text, StandardCharsets.UTF_8);

        CountResult counts = new CountResult();
        KERNELS.count(seg, skew, text.length, counts);
        assertThat(counts.bytes).isEqualTo(text.length);
        assertThat(counts.codePoints).isEqualTo(decoded.codePointCount(0, decoded.length()));
        assertThat(counts.words).isEqualTo(words(text));
        assertThat(counts.lines).isEqualTo(lines(text));

        byte[] want = (upper ? decoded.toUpperCase(Locale.ROOT) : decoded.toLowerCase(Locale.ROOT))
                .getBytes(StandardCharsets.UTF_8);
        byte[] before = placed.clone();
        long r = KERNELS.caseMapInPlace(seg, skew, text.length, upper);
        byte[] got;
        if (r == TextKernels.UNCHANGED) {
            assertThat(placed).as("untouched").isEqualTo(before);
            got = text;
        } else if (r == TextKernels.IN_PLACE) {
            got = java.util.Arrays.copyOfRange(placed, skew, skew + text.length);
        } else {
            assertThat(placed).as("input untouched when the length changes").isEqualTo(before);
            byte[] dst = new byte[(int) r];
            long written = KERNELS.caseMapTo(seg, skew, text.length, upper, MemorySegment.ofArray(dst), 0);
            assertThat(written).isEqualTo(r);
            got = dst;
        }
        assertThat(got).as("%s of %s", upper ? "UPPER" : "LOWER", decoded).isEqualTo(want);
        for (int i = 0; i < skew; i++) {
            assertThat(placed[i]).as("byte before the text").isZero();
        }
        for (int i = skew + text.length; i < placed.length; i++) {
            assertThat(placed[i]).as("byte after the text").isZero();
        }
    }

    /** Index of the first byte of the first malformed sequence per the JDK's strict decoder, or -1. */
    static int firstMalformed(byte[] b) {
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(b);
        CharBuffer out = CharBuffer.allocate(b.length * 2 + 2);
        CoderResult r = d.decode(in, out, true);
        if (r.isError()) {
            return in.position();
        }
        r = d.flush(out);
        return r.isError() ? in.position() : -1;
    }

    private static long words(byte[] b) {
        long words = 0;
        boolean inWord = false;
        for (byte x : b) {
            boolean space = x == 0x20 || (x >= 0x09 && x <= 0x0D);
            if (!space && !inWord) {
                words++;
            }
            inWord = !space;
        }
        return words;
    }

    private static long lines(byte[] b) {
        long n = 0;
        for (byte x : b) {
            if (x == 0x0A) {
                n++;
            }
        }
        return n;
    }
}
