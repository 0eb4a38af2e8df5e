package dev.framepipe.kernel;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Locale;

/**
 * Picks the kernel implementation once per JVM: the {@code jdk.incubator.vector} one when the
 * module is present and the CPU has wide enough vectors, the scalar twin otherwise.
 *
 * <p>The system property {@code framepipe.kernels=scalar|vector} forces a choice ({@code vector}
 * falls back to scalar, with the reason in {@link #implementationName()}, if the module is
 * missing). All {@code jdk.incubator.vector} code lives in {@code dev.framepipe.kernel.vector}
 * and is only loaded reflectively here, so this class links without the module.
 */
public final class Kernels {

    /** System property that forces an implementation: {@code scalar} or {@code vector}. */
    public static final String PROPERTY = "framepipe.kernels";

    private static final String VECTOR_PROVIDER = "dev.framepipe.kernel.vector.VectorKernels";

    private static final FloatKernels FLOATS;
    private static final TextKernels TEXT;
    private static final String NAME;

    static {
        String wanted = System.getProperty(PROPERTY, "auto").trim().toLowerCase(Locale.ROOT);
        FloatKernels floats = null;
        TextKernels text = null;
        String name;
        if (wanted.equals("scalar")) {
            name = "scalar (forced by -D" + PROPERTY + "=scalar)";
        } else {
            String why = vectorUnavailableReason();
            String desc = null;
            if (why == null) {
                try {
                    Class<?> provider = Class.forName(VECTOR_PROVIDER);
                    var lookup = MethodHandles.publicLookup();
                    floats = (FloatKernels) lookup.findStatic(provider, "floats",
                            MethodType.methodType(FloatKernels.class)).invoke();
                    text = (TextKernels) lookup.findStatic(provider, "text",
                            MethodType.methodType(TextKernels.class)).invoke();
                    desc = (String) lookup.findStatic(provider, "description",
                            MethodType.methodType(String.class)).invoke();
                } catch (Throwable t) { // missing class or module: run scalar and say why
                    floats = null;
                    text = null;
                    why = t.toString();
                }
            }
            name = floats != null ? "vector (" + desc + ")" : "scalar (vector unavailable: " + why + ")";
        }
        FLOATS = floats != null ? floats : new ScalarFloatKernels();
        TEXT = text != null ? text : new ScalarTextKernels();
        NAME = name;
    }

    private Kernels() {
    }

    private static String vectorUnavailableReason() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return "module jdk.incubator.vector not resolved (run with --add-modules=jdk.incubator.vector)";
        }
        return null;
    }

    /** The STATS/SCALE kernels this JVM uses. */
    public static FloatKernels floats() {
        return FLOATS;
    }

    /** The UTF-8 kernels this JVM uses. */
    public static TextKernels text() {
        return TEXT;
    }

    /** Human-readable name of the chosen implementation, for the startup log. */
    public static String implementationName() {
        return NAME;
    }
}
