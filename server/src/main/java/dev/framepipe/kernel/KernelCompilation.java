package dev.framepipe.kernel;

import java.lang.management.ManagementFactory;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Whether the JIT has compiled the kernels this JVM uses with its optimizing compiler (C2,
 * tier 4): the kernel warm-up's end condition. Read from HotSpot's code cache through the
 * DiagnosticCommand MBean, the command {@code jcmd PID Compiler.codelist} runs: one line per
 * compiled method, {@code compile-id level state class.method(signature) [addresses]}, state 0
 * meaning in use.
 *
 * <p>A kernel counts as compiled once one of its methods in use is at tier 4. HotSpot does not
 * say whether that code is the method's entry or an on-stack replacement of one of its loops;
 * {@link KernelWarmup} keeps each call short (few loop iterations) so that the entry reaches
 * tier 4 first (HotSpot compiles the entry once invocations plus loop iterations pass its
 * threshold, a loop alone only after many more iterations).
 */
public final class KernelCompilation {

    /** HotSpot's tier of C2-compiled code. */
    static final int OPTIMIZED = 4;
    private static final String COMMAND = "compilerCodelist";

    private final MBeanServer server;
    private final ObjectName name;

    private KernelCompilation(MBeanServer server, ObjectName name) {
        this.server = server;
        this.name = name;
    }

    /**
     * The code-cache reader of this JVM, or null if it has none (not HotSpot, or the
     * DiagnosticCommand MBean is missing): then nobody can tell, and the warm-up runs its full
     * count of rounds.
     */
    public static KernelCompilation probe() {
        try {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            ObjectName name = new ObjectName("com.sun.management:type=DiagnosticCommand");
            KernelCompilation k = new KernelCompilation(server, name);
            k.codelist(); // fails here, once, if the command is not there
            return k;
        } catch (Exception | LinkageError e) {
            return null;
        }
    }

    /**
     * The kernels ({@code Class.method}) of {@code floats} and {@code text} that have no tier-4
     * code in use yet; empty when all of them have.
     */
    public List<String> pending(FloatKernels floats, TextKernels text) {
        Map<String, Integer> best = bestLevels(codelist());
        List<String> pending = new ArrayList<>();
        for (String kernel : kernelMethods(floats.getClass(), FloatKernels.class)) {
            if (best.getOrDefault(kernel, 0) < OPTIMIZED) {
                pending.add(kernel);
            }
        }
        for (String kernel : kernelMethods(text.getClass(), TextKernels.class)) {
            if (best.getOrDefault(kernel, 0) < OPTIMIZED) {
                pending.add(kernel);
            }
        }
        return pending;
    }

    /** Every method of {@code api} as {@code implementation}'s class name, a dot and its name. */
    static List<String> kernelMethods(Class<?> implementation, Class<?> api) {
        List<String> names = new ArrayList<>();
        for (Method m : api.getDeclaredMethods()) {
            if (Modifier.isAbstract(m.getModifiers())) {
                names.add(implementation.getName() + "." + m.getName());
            }
        }
        names.sort(null);
        return names;
    }

    /** The highest level in use of each {@code Class.method} in a codelist. */
    static Map<String, Integer> bestLevels(String codelist) {
        Map<String, Integer> best = new TreeMap<>();
        for (String line : codelist.split("\n")) {
            String[] f = line.trim().split(" ", 5);
            if (f.length < 4 || !f[2].equals("0")) {
                continue; // not a method line, or code no longer in use (not entrant)
            }
            int paren = f[3].indexOf('(');
            if (paren <= 0) {
                continue;
            }
            try {
                best.merge(f[3].substring(0, paren), Integer.parseInt(f[1]), Math::max);
            } catch (NumberFormatException e) {
                // a line of another shape: not ours to read
            }
        }
        return best;
    }

    String codelist() {
        try {
            return (String) server.invoke(name, COMMAND, new Object[0], new String[0]);
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the code cache (" + COMMAND + "): " + e, e);
        }
    }
}
