package dev.framepipe.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class KernelsTest {

    @Test
    void facadePicksTheVectorKernelsAndAFailureToLoadThemFailsHere() {
        // The test JVM runs with the incubator module (pom.xml), as the service does: the vector
        // kernels must load and be chosen, never dropped in silence for the scalar twin.
        assertThat(ModuleLayer.boot().findModule("jdk.incubator.vector")).as("jdk.incubator.vector resolved").isPresent();
        assertThat(System.getProperty(Kernels.PROPERTY)).as("-D%s forces no choice in tests", Kernels.PROPERTY).isNull();
        assertThat(Kernels.implementationName()).startsWith("vector");
        assertThat(Kernels.floats()).isSameAs(Impls.vectorFloats());
        assertThat(Kernels.text()).isSameAs(Impls.vectorText());
    }

    @Test
    void onACpuWithAvx512TheVectorsAre512BitsWide() throws Exception {
        // The kernels' tests choose lengths around the vector widths of the machine they run on;
        // on an AVX-512 machine (this project's CI and servers) those are the 512-bit ones. A JVM
        // that silently used narrower vectors (-XX:UseAVX, a CPU flag hidden by a hypervisor)
        // would test and run other code than the benchmarks measured.
        Path cpuinfo = Path.of("/proc/cpuinfo");
        boolean avx512 = Files.isReadable(cpuinfo)
                && Files.readAllLines(cpuinfo).stream().anyMatch(l -> l.startsWith("flags") && l.contains(" avx512f"));
        String species = dev.framepipe.kernel.vector.VectorKernels.description();
        if (avx512) {
            assertThat(species).isEqualTo("float 256-bit -> double 512-bit, bytes 512-bit");
            assertThat(Kernels.implementationName()).isEqualTo("vector (" + species + ")");
        } else {
            assertThat(species).as("no AVX-512 here: any width the JVM prefers").startsWith("float ");
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
