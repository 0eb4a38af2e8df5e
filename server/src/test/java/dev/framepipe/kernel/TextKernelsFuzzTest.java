package dev.framepipe.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.framepipe.kernel.vector.VectorPaths;
import dev.framepipe.kernel.vector.VectorPaths.Op;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;

/**
 * Fuzzes the vector text kernels and their scalar twin against the JDK itself: validation
 * against a strict {@link CharsetDecoder} (REPORT on malformed input), UPPER and LOWER against
 * {@code String.toUpperCase/toLowerCase(Locale.ROOT)}, COUNT against its definition. The text
 * sits where the pipeline puts a frame's payload: in a pooled direct buffer, seen through the
 * segment spanning native memory, at any of the 64 alignments to a vector; a length-changing
 * mapping is written into a second pooled buffer, as the pipeline does. Every vector call must
 * run vector code ({@link VectorPaths}); once the inputs are done, some must have reached past
 * the vector width and some not.
 *
 * <p>Input: UPPER or LOWER (one byte), the alignment (one byte), then the text's bytes.
 */
class TextKernelsFuzzTest {

    private static final TextKernels VECTOR = Impls.vectorText();
    private static final TextKernels SCALAR = new ScalarTextKernels();

    private static final AtomicLong WIDE = new AtomicLong();
    private static final AtomicLong NARROW = new AtomicLong();

    @FuzzTest(maxDuration = "60s")
    void utf8ValidationAndCaseMappingAgreeWithTheJdk(FuzzedDataProvider data) {
        boolean upper = data.consumeBoolean();
        int align = data.consumeInt(0, Impls.ALIGNMENTS - 1);
        byte[] text = data.consumeRemainingAsBytes();
        (text.length >= VectorPaths.width(Op.VALIDATE_UTF8) ? WIDE : NARROW).incrementAndGet();
        for (TextKernels k : new TextKernels[] {VECTOR, SCALAR}) {
            try (Arena arena = Arena.ofConfined()) {
                check(k, k == VECTOR ? "vector" : "scalar", arena, text, upper, align);
            }
        }
    }

    private static void check(TextKernels k, String name, Arena arena, byte[] text, boolean upper, int align) {
        Impls.Placed p = new Impls.Placed(arena, text, align);
        int jdkBad = firstMalformed(text);
        long bad = vector(k, Op.VALIDATE_UTF8, () -> k.validateUtf8(p.seg, p.offset, text.length));
        assertThat(bad).as("%s: first ill-formed byte (JDK says %d)", name, jdkBad).isEqualTo(jdkBad);
        if (jdkBad >= 0) {
            return;
        }
        String decoded = new String(text, StandardCharsets.UTF_8);

        CountResult counts = new CountResult();
        vector(k, Op.COUNT, () -> {
            k.count(p.seg, p.offset, text.length, counts);
            return 0L;
        });
        assertThat(counts.bytes).as(name).isEqualTo(text.length);
        assertThat(counts.codePoints).as(name).isEqualTo(decoded.codePointCount(0, decoded.length()));
        assertThat(counts.words).as(name).isEqualTo(words(text));
        assertThat(counts.lines).as(name).isEqualTo(lines(text));

        byte[] want = (upper ? decoded.toUpperCase(Locale.ROOT) : decoded.toLowerCase(Locale.ROOT))
                .getBytes(StandardCharsets.UTF_8);
        long r = vector(k, Op.CASE_MAP_IN_PLACE, () -> k.caseMapInPlace(p.seg, p.offset, text.length, upper));
        byte[] got;
        if (r == TextKernels.UNCHANGED) {
            assertThat(p.data()).as("%s: untouched", name).isEqualTo(text);
            got = text;
        } else if (r == TextKernels.IN_PLACE) {
            got = p.data();
        } else {
            assertThat(p.data()).as("%s: input untouched when the length changes", name).isEqualTo(text);
            Impls.Placed dst = new Impls.Placed(arena, new byte[(int) r], (align * 7 + 3) % Impls.ALIGNMENTS);
            long written = vector(k, Op.CASE_MAP_TO,
                    () -> k.caseMapTo(p.seg, p.offset, text.length, upper, dst.seg, dst.offset));
            assertThat(written).as(name).isEqualTo(r);
            assertThat(dst.guardsIntact()).as("%s: caseMapTo wrote outside its destination", name).isTrue();
            got = dst.data();
        }
        assertThat(got).as("%s: %s of %s", name, upper ? "UPPER" : "LOWER", decoded).isEqualTo(want);
        assertThat(p.guardsIntact()).as("%s: bytes before and after the text untouched", name).isTrue();
    }

    /** Runs {@code call}; for the vector kernels, checks that it ran {@code op}'s vector code. */
    private static long vector(TextKernels k, Op op, java.util.function.LongSupplier call) {
        long calls = VectorPaths.calls(op);
        long r = call.getAsLong();
        if (k == VECTOR) {
            assertThat(VectorPaths.calls(op)).as("%s ran vector code", op).isEqualTo(calls + 1);
        }
        return r;
    }

    @AfterAll
    static void theInputsReachedBothSidesOfTheVectorWidth() {
        assertThat(WIDE.get()).as("inputs of at least %d bytes (a vector)", VectorPaths.width(Op.VALIDATE_UTF8))
                .isPositive();
        assertThat(NARROW.get()).as("inputs shorter than that (tails only)").isPositive();
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
