package dev.framepipe.kernel.vector;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Counts, for tests, the calls that ran a vector kernel's vector code. A vector kernel handed a
 * heap segment runs its scalar twin instead, so a test that means to check the vector code
 * reads these counts to prove it ran.
 *
 * <p>Off unless the JVM runs with {@code -Dframepipe.kernels.countVectorPaths=true} (the test
 * JVMs do, see pom.xml; the service never does). Cost when off: each kernel calls
 * {@link #entered} once, at its entry (never inside a vector loop or in {@code onePassBlock},
 * whose size decides whether C2 keeps its vectors unboxed). That method tests {@link #COUNTING},
 * a {@code static final}, which C1 and C2 fold as a constant: {@code entered} (12 bytes) is
 * inlined at every call site and nothing of it is left in compiled kernels (the pattern of
 * {@code PipelineCounters.RECORDING}; with -XX:+PrintInlining, {@code count} is never compiled
 * nor inlined when off). The call site adds six bytes of bytecode:
 * {@code VectorTextKernels.validateUtf8} grows from 315 to 321 bytes, still under the 325 up to
 * which C2 inlines a hot method into its caller (FreqInlineSize), as FrameProcessor's call is.
 */
public final class VectorPaths {

    /** The system property that turns counting on. */
    public static final String PROPERTY = "framepipe.kernels.countVectorPaths";

    static final boolean COUNTING = Boolean.getBoolean(PROPERTY);

    /** The vector kernels' operations; the kernels pass their ordinals (the int constants below). */
    public enum Op { STATS, SCALE, VALIDATE_UTF8, COUNT, CASE_MAP_IN_PLACE, CASE_MAP_TO }

    static final int STATS = 0;
    static final int SCALE = 1;
    static final int VALIDATE_UTF8 = 2;
    static final int COUNT = 3;
    static final int CASE_MAP_IN_PLACE = 4;
    static final int CASE_MAP_TO = 5;

    private static final Op[] OPS = Op.values();
    private static final AtomicLongArray CALLS = new AtomicLongArray(OPS.length);
    private static final AtomicLongArray WIDE = new AtomicLongArray(OPS.length);

    private VectorPaths() {
    }

    /**
     * A call ran the vector code of op {@code op} (an ordinal of {@link Op}) on {@code units}
     * floats or bytes. A dozen bytes of bytecode, so that it is inlined (and folded away) at
     * every call site, hot or not.
     */
    static void entered(int op, long units) {
        if (COUNTING) {
            count(op, units);
        }
    }

    private static void count(int op, long units) {
        CALLS.incrementAndGet(op);
        if (units >= width(OPS[op])) {
            WIDE.incrementAndGet(op);
        }
    }

    /** Whether this JVM counts (the property is read once, when this class initialises). */
    public static boolean counting() {
        return COUNTING;
    }

    /** Calls that ran {@code op}'s vector code since the JVM started. */
    public static long calls(Op op) {
        return CALLS.get(op.ordinal());
    }

    /** Of {@link #calls}, those whose input reached {@link #width}, so that the main vector loop ran. */
    public static long wideCalls(Op op) {
        return WIDE.get(op.ordinal());
    }

    /**
     * The input size from which {@code op}'s main vector loop runs at least once: floats for
     * STATS (a group of four vectors) and SCALE (one vector), bytes for the text ops (one vector).
     */
    public static int width(Op op) {
        return switch (op) {
            case STATS -> VectorFloatKernels.STATS_WIDTH;
            case SCALE -> VectorFloatKernels.SCALE_WIDTH;
            case VALIDATE_UTF8, COUNT, CASE_MAP_IN_PLACE, CASE_MAP_TO -> VectorTextKernels.WIDTH;
        };
    }
}
