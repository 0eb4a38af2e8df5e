package dev.framepipe.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** The code points whose String case mapping is not the simple one, as the running JDK maps them. */
class CaseMappingTest {

    @Test
    void theSpecialCodePointsAreThoseWhoseStringMappingDiffersOneByOne() {
        List<String> wrong = new ArrayList<>();
        int upper = 0;
        int lower = 0;
        for (int cp = 0x80; cp <= Character.MAX_CODE_POINT; cp++) {
            if (cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE || !Character.isDefined(cp)) {
                continue;
            }
            String s = Character.toString(cp);
            boolean u = !s.toUpperCase(Locale.ROOT).equals(Character.toString(Character.toUpperCase(cp)));
            boolean l = !s.toLowerCase(Locale.ROOT).equals(Character.toString(Character.toLowerCase(cp)))
                    || cp == 0x03A3; // final sigma: depends on the next letter
            if (CaseMapping.isSpecial(cp, true) != u || CaseMapping.isSpecial(cp, false) != l) {
                wrong.add(String.format(Locale.ROOT, "U+%04X", cp));
            }
            upper += u ? 1 : 0;
            lower += l ? 1 : 0;
        }
        assertThat(wrong).isEmpty();
        assertThat(upper).as("ß, ligatures, Greek with ypogegrammeni...").isGreaterThan(50);
        assertThat(lower).as("İ and final sigma at least").isGreaterThanOrEqualTo(2);
        assertThat(CaseMapping.isSpecial('ß', true)).isTrue();
        assertThat(CaseMapping.isSpecial('ß', false)).isFalse();
        assertThat(CaseMapping.isSpecial(0x0130, false)).isTrue();
        assertThat(CaseMapping.isSpecial('é', true)).isFalse();
        assertThat(CaseMapping.isSpecial(Character.MAX_CODE_POINT, true)).isFalse();
    }
}
