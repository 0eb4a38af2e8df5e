package dev.framepipe.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Runs every kernel on scratch native memory before the server turns ready, so the JIT has
 * compiled them first. Until C2 compiles it, Vector API code runs interpreted, allocates a box
 * per vector and is about a hundred times slower than the scalar loop (measured: 5 k STATS
 * frames/s and 9 KB of garbage per frame for the first seconds of a cold server); warming up
 * moves that cost before the first client.
 *
 * <p>Two details make the warm-up compile what the request path calls:
 * <ul>
 *   <li>The kernels are called through method handles read from an array, which the JIT cannot
 *       inline: a direct call would be compiled into this loop instead (the loop is the hot
 *       method here), leaving the kernels' own entry points, which the workers call, cold.</li>
 *   <li>Each call is short, tens of vector iterations: HotSpot compiles a method's entry once its
 *       calls plus loop iterations pass a threshold, and compiles only one loop of it (on-stack
 *       replacement) when the iterations alone pass a higher one; short calls reach the first
 *       threshold first. Each round still covers the paths that matter: tails, unaligned
 *       starts, more than one STATS block (2051 floats), ASCII and multi-byte text.</li>
 * </ul>
 * Per round it allocates nothing itself; what a round allocates is the interpreted Vector API's
 * boxes, until C2 has compiled the kernels.
 */
public final class KernelWarmup {

    private static final MethodHandle STATS;
    private static final MethodHandle SCALE;
    private static final MethodHandle VALIDATE;
    private static final MethodHandle COUNT;
    private static final MethodHandle CASE_MAP_IN_PLACE;
    private static final MethodHandle CASE_MAP_TO;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.publicLookup();
            STATS = l.findVirtual(FloatKernels.class, "stats", MethodType.methodType(void.class,
                    MemorySegment.class, long.class, int.class, StatsAccumulator.class));
            SCALE = l.findVirtual(FloatKernels.class, "scale", MethodType.methodType(void.class,
                    MemorySegment.class, long.class, int.class, float.class, float.class));
            VALIDATE = l.findVirtual(TextKernels.class, "validateUtf8", MethodType.methodType(long.class,
                    MemorySegment.class, long.class, long.class));
            COUNT = l.findVirtual(TextKernels.class, "count", MethodType.methodType(void.class,
                    MemorySegment.class, long.class, long.class, CountResult.class));
            CASE_MAP_IN_PLACE = l.findVirtual(TextKernels.class, "caseMapInPlace", MethodType.methodType(long.class,
                    MemorySegment.class, long.class, long.class, boolean.class));
            CASE_MAP_TO = l.findVirtual(TextKernels.class, "caseMapTo", MethodType.methodType(long.class,
                    MemorySegment.class, long.class, long.class, boolean.class, MemorySegment.class, long.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * The kernels see memory as the request path shows it to them (codec.MemoryViews): one segment
     * spanning the address space, of the global session, addressed by native address. Scratch
     * segments of a confined arena, with offsets from 0, left profiles that the request path's
     * first frames broke (a different session, other offsets): C2 deoptimized and recompiled every
     * kernel then, a second compilation of about a second of C2 time.
     */
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    /** Float counts, in turn: a partial vector, a few vectors, two STATS blocks (2048 each) and a bit. */
    private static final int[] SIZES = {7, 64, 300, 517, 2051};

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
        byte[] ascii = "The quick brown Fox jumps over the lazy dog.\n".repeat(30).getBytes(StandardCharsets.US_ASCII);
        byte[] mixed = "Grüße, Καλημέρα κόσμε! ıİ straße 😀\n".repeat(12).getBytes(StandardCharsets.UTF_8);
        // Read from an array, the handles are not constants to the JIT: it cannot inline the kernels here.
        MethodHandle[] k = {STATS.bindTo(floats), SCALE.bindTo(floats), VALIDATE.bindTo(text), COUNT.bindTo(text),
            CASE_MAP_IN_PLACE.bindTo(text), CASE_MAP_TO.bindTo(text)};
        int done = 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment floatMemory = arena.allocate(4 * 2051 + 4, 64);
            for (int i = 0; i < 2052; i++) {
                floatMemory.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) Math.sin(i) * 100 + 1000);
            }
            MemorySegment asciiMemory = arena.allocate(ascii.length + 1);
            MemorySegment mixedMemory = arena.allocate(mixed.length + 1);
            // UTF-8 case mapping grows 3x at most
            MemorySegment dstMemory = arena.allocate(3L * mixed.length + 16);
            long f = floatMemory.address();
            long a = asciiMemory.address();
            long m = mixedMemory.address();
            long dst = dstMemory.address();
            StatsAccumulator acc = new StatsAccumulator();
            CountResult counts = new CountResult();
            while (done < rounds && System.nanoTime() < deadline) {
                // Every kernel twice a round, so that all of them reach the JIT's thresholds together.
                int n = SIZES[done % SIZES.length];
                int n2 = SIZES[(done + 2) % SIZES.length];
                long off = done & 1; // aligned and unaligned
                boolean upper = (done & 2) == 0;
                acc.reset();
                MemorySegment.copy(ascii, 0, asciiMemory, ValueLayout.JAVA_BYTE, 0, ascii.length);
                MemorySegment.copy(mixed, 0, mixedMemory, ValueLayout.JAVA_BYTE, 0, mixed.length);
                int len = Math.min(ascii.length, 16 + done % 1000);
                try {
                    k[0].invokeExact(ALL, f + off, n - 1, acc);
                    k[0].invokeExact(ALL, f + 1 - off, n2, acc);
                    k[1].invokeExact(ALL, f + off, n - 1, 1f, 0f);
                    k[1].invokeExact(ALL, f + 1 - off, n2, 1f, 0f);
                    long bad = (long) k[2].invokeExact(ALL, a, (long) len);
                    bad |= (long) k[2].invokeExact(ALL, m, (long) mixed.length);
                    k[3].invokeExact(ALL, a, (long) len, counts);
                    k[3].invokeExact(ALL, m, (long) mixed.length, counts);
                    // The mixed text changes length when upper-cased ("ı" to "I"): the in-place call
                    // leaves it as it is and says how long the mapping is; caseMapTo writes that.
                    long grown = (long) k[4].invokeExact(ALL, m, (long) mixed.length, true);
                    if (grown < 0) {
                        throw new AssertionError("upper-casing the warm-up text must change its length");
                    }
                    long written = (long) k[5].invokeExact(ALL, m, (long) mixed.length, true, ALL, dst);
                    long r = (long) k[4].invokeExact(ALL, a, (long) len, upper); // ASCII: in place or unchanged
                    long lower = (long) k[4].invokeExact(ALL, m, (long) mixed.length, false);
                    // caseMapTo three times a round as well: once a round, it reached C2's
                    // thresholds last, sometimes only after warmup-rounds had ended the warm-up
                    long writtenLower = (long) k[5].invokeExact(ALL, m, (long) mixed.length, false, ALL, dst);
                    long writtenAscii = (long) k[5].invokeExact(ALL, a, (long) len, upper, ALL, dst);
                    if (bad != -1 || written != grown || r >= 0 || lower < 0 || writtenLower != lower
                            || writtenAscii != len) {
                        throw new AssertionError("warm-up kernels: validate " + bad + ", caseMapTo " + written
                                + " of " + grown + ", ASCII in place " + r + ", lower " + lower + ", caseMapTo lower "
                                + writtenLower + ", caseMapTo ASCII " + writtenAscii + " of " + len);
                    }
                } catch (RuntimeException | Error e) {
                    throw e;
                } catch (Throwable t) {
                    throw new IllegalStateException(t); // the kernels throw nothing checked
                }
                done++;
            }
        }
        return done;
    }
}
