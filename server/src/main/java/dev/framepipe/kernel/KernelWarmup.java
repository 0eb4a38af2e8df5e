package dev.framepipe.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Runs every kernel on scratch native memory before the server turns ready, so the JIT has
 * compiled them first. Until C2 compiles it, Vector API code runs interpreted, allocates a box
 * per vector and is about a hundred times slower than the scalar loop (measured: 5 k STATS
 * frames/s and 9 KB of garbage per frame for the first seconds of a cold server); warming up
 * moves that cost before the first client.
 */
public final class KernelWarmup {

    private KernelWarmup() {
    }

    /**
     * Calls each kernel on small and medium inputs {@code rounds} times, or until {@code budget}
     * has passed.
     *
     * @return rounds done
     */
    public static int run(FloatKernels floats, TextKernels text, int rounds, Duration budget) {
        CaseMapping.warmUp();
        long deadline = System.nanoTime() + budget.toNanos();
        byte[] ascii = "The quick brown Fox jumps over the lazy dog.\n".repeat(100).getBytes(StandardCharsets.US_ASCII);
        byte[] mixed = "Grüße, Καλημέρα κόσμε! ıİ straße 😀\n".repeat(40).getBytes(StandardCharsets.UTF_8);
        int done = 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment f = arena.allocate(4 * 8192 + 4, 64);
            for (int i = 0; i < 8192; i++) {
                f.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) Math.sin(i) * 100 + 1000);
            }
            MemorySegment a = arena.allocate(ascii.length + 1);
            MemorySegment m = arena.allocate(mixed.length + 1);
            MemorySegment dst = arena.allocate(4 * mixed.length + 16);
            StatsAccumulator acc = new StatsAccumulator();
            CountResult counts = new CountResult();
            int[] sizes = {7, 64, 300, 2051, 8192};
            while (done < rounds && System.nanoTime() < deadline) {
                int n = sizes[done % sizes.length];
                long off = done & 1; // aligned and unaligned
                acc.reset();
                floats.stats(f, off, n - 1, acc);
                floats.scale(f, off, n - 1, 1f, 0f);
                MemorySegment.copy(ascii, 0, a, ValueLayout.JAVA_BYTE, 0, ascii.length);
                MemorySegment.copy(mixed, 0, m, ValueLayout.JAVA_BYTE, 0, mixed.length);
                int len = Math.min(ascii.length, 16 + done % 1000);
                text.validateUtf8(a, 0, len);
                text.count(a, 0, len, counts);
                text.caseMapInPlace(a, 0, len, (done & 2) == 0);
                text.validateUtf8(m, 0, mixed.length);
                text.count(m, 0, mixed.length, counts);
                long r = text.caseMapInPlace(m, 0, mixed.length, (done & 2) == 0);
                if (r >= 0) {
                    text.caseMapTo(m, 0, mixed.length, (done & 2) == 0, dst, 0);
                }
                done++;
            }
        }
        return done;
    }
}
