package dev.framepipe.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class KernelsTest {

    @Test
    void facadePicksVectorWhenTheModuleAndImplementationArePresent() {
        boolean vectorBuilt = Impls.floats().size() > 1;
        boolean forcedScalar = "scalar".equals(System.getProperty(Kernels.PROPERTY));
        assertThat(Kernels.floats()).isNotNull();
        assertThat(Kernels.text()).isNotNull();
        if (vectorBuilt && !forcedScalar) {
            assertThat(Kernels.implementationName()).startsWith("vector");
            assertThat(Kernels.floats()).isNotInstanceOf(ScalarFloatKernels.class);
            assertThat(Kernels.text()).isNotInstanceOf(ScalarTextKernels.class);
        } else {
            assertThat(Kernels.implementationName()).startsWith("scalar");
            assertThat(Kernels.floats()).isInstanceOf(ScalarFloatKernels.class);
        }
    }

    @Test
    void specialCasingTableHoldsTheKnownOneToManyMappings() {
        assertThat(CaseMapping.isSpecial(0xDF, true)).isTrue();      // ß → SS
        assertThat(CaseMapping.isSpecial(0xFB01, true)).isTrue();    // ﬁ → FI
        assertThat(CaseMapping.isSpecial(0x130, false)).isTrue();    // İ → i̇
        assertThat(CaseMapping.isSpecial(0x3A3, false)).isTrue();    // Σ: final sigma context
        assertThat(CaseMapping.isSpecial('a', true)).isFalse();
        assertThat(CaseMapping.isSpecial(0x3A3, true)).isFalse();
        assertThat(CaseMapping.isSpecial(0xDF, false)).isFalse();
    }
}
