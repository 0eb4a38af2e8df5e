package dev.framepipe.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Reading the kernels' tiers from HotSpot's codelist ({@code jcmd PID Compiler.codelist}). */
class KernelCompilationTest {

    private static final String K = "dev.framepipe.kernel.vector.VectorFloatKernels";
    private static final String T = "dev.framepipe.kernel.vector.VectorTextKernels";

    @Test
    void theHighestLevelInUseOfEachMethodOfTheGivenClassesCounts() {
        String codelist = String.join("\n",
                "3 0 0 jdk.internal.misc.Unsafe.getReferenceVolatile(Ljava/lang/Object;J)Ljava/lang/Object; [0x1, 0x2 - 0x3]",
                "812 3 0 " + K + ".stats(Ljava/lang/foreign/MemorySegment;JILdev/framepipe/kernel/StatsAccumulator;)V [0x1, 0x2 - 0x3]",
                "901 4 0 " + K + ".stats(Ljava/lang/foreign/MemorySegment;JILdev/framepipe/kernel/StatsAccumulator;)V [0x1, 0x2 - 0x3]",
                // not entrant (state 1): no longer in use, whatever its level
                "905 4 1 " + K + ".scale(Ljava/lang/foreign/MemorySegment;JIFF)V [0x1, 0x2 - 0x3]",
                "906 3 0 " + K + ".scale(Ljava/lang/foreign/MemorySegment;JIFF)V [0x1, 0x2 - 0x3]",
                // another class whose signature names the kernels' class: not a line of it
                "907 4 0 dev.framepipe.Other.run(Ldev/framepipe/kernel/vector/VectorFloatKernels;)V [0x1, 0x2 - 0x3]",
                // a nested class of the same name prefix
                "908 4 0 " + K + "$Block.sum(I)F [0x1, 0x2 - 0x3]",
                "990 4 0 " + T + ".count(Ljava/lang/foreign/MemorySegment;JJLdev/framepipe/kernel/CountResult;)V [0x1, 0x2 - 0x3]",
                "garbage " + T + ".caseMapTo(",
                "12 x 0 " + T + ".validateUtf8(Ljava/lang/foreign/MemorySegment;JJ)J [0x1, 0x2 - 0x3]",
                "");
        Map<String, Integer> best = KernelCompilation.bestLevels(codelist, List.of(K, T));
        assertThat(best).containsExactlyInAnyOrderEntriesOf(Map.of(K + ".stats", 4, K + ".scale", 3, T + ".count", 4));
        assertThat(KernelCompilation.bestLevels(codelist, List.of(K))).containsOnlyKeys(K + ".stats", K + ".scale");
        assertThat(KernelCompilation.bestLevels("", List.of(K))).isEmpty();
    }

    @Test
    void theJitIsIdleWhenNothingCompilesAndBothQueuesAreEmpty() {
        String idle = "Current compiles: \n\nC1 compile queue:\nEmpty\n\nC2 compile queue:\nEmpty\n\n";
        assertThat(KernelCompilation.idle(idle)).isTrue();
        assertThat(KernelCompilation.idle("Current compiles: \nC2 CompilerThread0  1922 %     4       T::run @ 4 (35 bytes)\n\n"
                + "C1 compile queue:\nEmpty\n\nC2 compile queue:\nEmpty\n")).isFalse();
        assertThat(KernelCompilation.idle("Current compiles: \n\nC1 compile queue:\nEmpty\n\nC2 compile queue:\n"
                + "1824       4       java.util.ArrayList::add (25 bytes)\n")).isFalse();
        KernelCompilation jit = KernelCompilation.probe();
        assertThat(jit).isNotNull();
        jit.compilerIdle(); // readable in this JVM, whatever it says
    }

    @Test
    void inThisJvmTheCodelistCanBeReadAndNamesEveryKernelNotYetCompiled() {
        KernelCompilation jit = KernelCompilation.probe();
        assertThat(jit).as("HotSpot's DiagnosticCommand MBean").isNotNull();
        FloatKernels floats = Kernels.floats();
        TextKernels text = Kernels.text();
        List<String> all = KernelCompilation.kernelMethods(floats.getClass(), FloatKernels.class);
        all.addAll(KernelCompilation.kernelMethods(text.getClass(), TextKernels.class));
        assertThat(all).hasSize(6);
        // a subset of the kernels, in their order: those C2 has not compiled in this JVM (yet)
        assertThat(all).containsAll(jit.pending(floats, text));
    }
}
