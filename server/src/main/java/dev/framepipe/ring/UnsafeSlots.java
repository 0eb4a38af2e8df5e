package dev.framepipe.ring;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Slot loads and stores for {@link SpscRing} through {@code jdk.internal.misc.Unsafe}, used when
 * the JVM exports that package to this code; {@link #ENABLED} is false otherwise and the ring
 * uses its {@code VarHandle}. framepipe's jar manifest ({@code Add-Exports}), the launcher's
 * benchmark and test runs, and the container all export it.
 *
 * <h2>Why</h2>
 * A {@code VarHandle} access to an {@code Object[]} checks the index against the array's length
 * and, on every store (null included), the array's runtime class. Both checks are loads and
 * branches on the hot path of every offer and poll, and C2 cannot prove them away for a masked,
 * padded index (perfasm). JCTools has none: it goes through {@code sun.misc.Unsafe}, whose
 * memory-access methods are deprecated for removal (JEP 471) and print a warning on JDK 24 and
 * later. The internal {@code Unsafe} is what {@code VarHandle}s are built on and is not going
 * away: {@code getReferenceAcquire} and {@code putReferenceRelease} are exactly the
 * {@code getAcquire} and {@code setRelease} of the ring's {@code VarHandle}, less the two
 * checks. The memory-ordering argument of {@link SpscRing} is therefore the same on both paths.
 * Agrona 2 reaches the internal {@code Unsafe} the same way (an export granted at launch).
 *
 * <h2>Why the skipped checks cannot fail</h2>
 * The ring's buffer is allocated by its constructor as exactly {@code Object[]}, so any reference
 * may be stored in it, and every offset passed here is {@link #offset} of a slot
 * {@code SLOT_PAD + (index & mask)}, below {@code capacity + 2 * SLOT_PAD}, the buffer's length.
 *
 * <h2>How it is reached</h2>
 * Through method handles looked up once, not linked by javac: javac's {@code --release} forbids
 * {@code --add-exports}, and a JVM without the export must still load {@code SpscRing}. The
 * handles are {@code static final}, so C2 treats them as constants and inlines each call down
 * to the intrinsic: {@code -prof perfasm} shows a plain load or store, no call and no check.
 *
 * <p>{@code -Dframepipe.ring.slots=varhandle} forces the {@code VarHandle} path (the tests run both
 * paths); {@code auto}, the default, takes this one when the export is there; any other value
 * makes every ring's constructor throw.
 */
final class UnsafeSlots {

    /** The system property that selects the slot access; see the class comment. */
    static final String PROPERTY = "framepipe.ring.slots";

    /** True when slots go through the internal {@code Unsafe}; a constant C2 folds. */
    static final boolean ENABLED;
    /** {@code Unsafe.getReferenceAcquire(Object, long)}, bound to the {@code Unsafe} instance. */
    private static final MethodHandle GET_ACQUIRE;
    /** {@code Unsafe.putReferenceRelease(Object, long, Object)}, bound to the {@code Unsafe} instance. */
    private static final MethodHandle PUT_RELEASE;
    /** Byte offset of element 0 in an {@code Object[]}. */
    private static final long BASE;
    /** log2 of the byte size of a reference in an {@code Object[]} (2 with compressed oops). */
    private static final int SHIFT;
    /** Why the internal {@code Unsafe} is not used, or null when it is; for the startup log. */
    static final String UNAVAILABLE_REASON;
    /**
     * The error when {@link #PROPERTY} has a value other than auto or varhandle, else null.
     * Reported by {@link #checkSetting()} (every ring's constructor), not thrown here: an error in
     * a static initializer would surface as an ExceptionInInitializerError at the first offer.
     */
    private static final String SETTING_ERROR;

    static {
        MethodHandle get = null;
        MethodHandle put = null;
        long base = 0;
        int shift = 0;
        String reason;
        String settingError = null;
        final String wanted = System.getProperty(PROPERTY, "auto");
        if ("varhandle".equals(wanted)) {
            reason = PROPERTY + "=varhandle";
        } else if (!"auto".equals(wanted)) {
            settingError = PROPERTY + " must be auto or varhandle, was '" + wanted + "'";
            reason = settingError;
        } else {
            try {
                final Class<?> k = Class.forName("jdk.internal.misc.Unsafe");
                final MethodHandles.Lookup lookup = MethodHandles.lookup();
                final Object unsafe = lookup.findStatic(k, "getUnsafe", MethodType.methodType(k)).invoke();
                get = lookup.findVirtual(k, "getReferenceAcquire",
                        MethodType.methodType(Object.class, Object.class, long.class)).bindTo(unsafe);
                put = lookup.findVirtual(k, "putReferenceRelease",
                        MethodType.methodType(void.class, Object.class, long.class, Object.class)).bindTo(unsafe);
                // Internal signatures change (arrayBaseOffset returns int on JDK 17, long on JDK 25):
                // a mismatch throws below, the VarHandle path is used, and SlotAccessTest fails.
                base = (long) lookup.findVirtual(k, "arrayBaseOffset",
                                MethodType.methodType(long.class, Class.class))
                        .invoke(unsafe, Object[].class);
                final int scale = (int) lookup.findVirtual(k, "arrayIndexScale",
                                MethodType.methodType(int.class, Class.class))
                        .invoke(unsafe, Object[].class);
                if (Integer.bitCount(scale) != 1) {
                    throw new IllegalStateException("Object[] index scale " + scale + " is not a power of two");
                }
                shift = Integer.numberOfTrailingZeros(scale);
                reason = null;
            } catch (Throwable t) { // IllegalAccessException without the export; anything else: a changed JDK
                get = null;
                put = null;
                reason = t.getClass().getSimpleName()
                        + (t instanceof IllegalAccessException
                                ? " (start the JVM with --add-exports java.base/jdk.internal.misc=ALL-UNNAMED)"
                                : ": " + t.getMessage());
            }
        }
        ENABLED = reason == null;
        GET_ACQUIRE = get;
        PUT_RELEASE = put;
        BASE = base;
        SHIFT = shift;
        UNAVAILABLE_REASON = reason;
        SETTING_ERROR = settingError;
    }

    /** Throws if {@link #PROPERTY} is set to an unknown value, so that no ring runs on a guess. */
    static void checkSetting() {
        if (SETTING_ERROR != null) {
            throw new IllegalStateException(SETTING_ERROR);
        }
    }

    /** Byte offset of array element {@code slot}; C2 folds it into the load's addressing mode. */
    static long offset(long slot) {
        return BASE + (slot << SHIFT);
    }

    /** Acquire load of the reference at {@code offset} in {@code buffer}; only when {@link #ENABLED}. */
    static Object getAcquire(Object[] buffer, long offset) {
        try {
            return (Object) GET_ACQUIRE.invokeExact((Object) buffer, offset);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Release store of {@code value} at {@code offset} in {@code buffer}; only when {@link #ENABLED}. */
    static void putRelease(Object[] buffer, long offset, Object value) {
        try {
            PUT_RELEASE.invokeExact((Object) buffer, offset, value);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The intrinsics throw nothing; kept for the compiler, which sees invokeExact's Throwable. */
    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException(t);
    }

    private UnsafeSlots() {
    }
}
