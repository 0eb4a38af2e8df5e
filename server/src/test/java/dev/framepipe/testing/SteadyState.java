package dev.framepipe.testing;

import java.lang.management.ManagementFactory;

/**
 * Heap allocation of code once the JIT has compiled it. Interpreted and C1 code allocates what C2's
 * escape analysis removes, and on a loaded machine C2 may finish late; so this measures repeatedly,
 * warming up further between attempts, and reports the smallest measurement. Code that allocates
 * in steady state allocates in every attempt and still fails the caller's bound.
 */
public final class SteadyState {

    private static final com.sun.management.ThreadMXBean MX =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private SteadyState() {
    }

    /**
     * @return the fewest heap bytes this thread allocated running {@code work} {@code rounds}
     *     times, over up to {@code attempts} measurements each preceded by {@code warmup} runs;
     *     stops early once a measurement is at most {@code goal}
     */
    public static long allocatedBytes(Runnable work, int warmup, int rounds, int attempts, long goal) {
        long best = Long.MAX_VALUE;
        for (int a = 0; a < attempts && best > goal; a++) {
            for (int i = 0; i < warmup; i++) {
                work.run();
            }
            long before = MX.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < rounds; i++) {
                work.run();
            }
            best = Math.min(best, MX.getCurrentThreadAllocatedBytes() - before);
        }
        return best;
    }
}
