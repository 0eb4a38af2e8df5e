package dev.framepipe.kernel;

import java.lang.management.ManagementFactory;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
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
    private static final String QUEUE_COMMAND = "compilerQueue";

    private final MBeanServer server;
    private final ObjectName name;

    private KernelCompilation(MBeanServer server, ObjectName name) {
        this.server = server;
        this.name = name;
    }

    /** Set once by {@link #probe}: the reader, or null when this JVM has none. */
    private static KernelCompilation probed;
    private static boolean isProbed;

    /**
     * Starts {@link #probe} on a thread of its own, so that making the platform MBean server (0.1
     * to 0.3 s at start-up, most of it class initialization) overlaps other start-up work; a later
     * {@link #probe} waits for it and returns the same result.
     */
    public static void probeSoon() {
        Thread.ofPlatform().name("framepipe-jit-probe").daemon().start(KernelCompilation::probe);
    }

    /**
     * The code-cache reader of this JVM, or null if it has none (not HotSpot, or the
     * DiagnosticCommand MBean is missing): then nobody can tell, and the warm-up runs its full
     * count of rounds. Made once per JVM (synchronized: {@link #probeSoon} may be making it).
     */
    public static synchronized KernelCompilation probe() {
        if (!isProbed) {
            probed = newProbe();
            isProbed = true;
        }
        return probed;
    }

    private static KernelCompilation newProbe() {
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
        List<String> kernels = kernelMethods(floats.getClass(), FloatKernels.class);
        kernels.addAll(kernelMethods(text.getClass(), TextKernels.class));
        Map<String, Integer> best = bestLevels(codelist(), List.of(floats.getClass().getName(), text.getClass().getName()));
        List<String> pending = new ArrayList<>();
        for (String kernel : kernels) {
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

    /**
     * The highest level in use of each {@code Class.method} of {@code classes} in a codelist.
     *
     * <p>Only the lines of those classes are read, found with {@code indexOf}: the codelist has
     * thousands of lines (hundreds of KiB) and is read many times a second while the kernels warm
     * up; splitting all of it into Strings made String's own methods hot enough to queue for C2
     * beside the kernels, on the one C2 thread a 2-core machine gets.
     */
    static Map<String, Integer> bestLevels(String codelist, Collection<String> classes) {
        Map<String, Integer> best = new TreeMap<>();
        for (String c : classes) {
            String needle = " " + c + ".";
            for (int at = codelist.indexOf(needle); at >= 0; at = codelist.indexOf(needle, at + needle.length())) {
                int method = at + 1;
                int paren = codelist.indexOf('(', method);
                int level = levelInUse(codelist, codelist.lastIndexOf('\n', at) + 1, method);
                if (level >= 0 && paren > method && codelist.lastIndexOf('\n', paren) < method) {
                    best.merge(codelist.substring(method, paren), level, Math::max);
                }
            }
        }
        return best;
    }

    /**
     * The level of the codelist line at {@code line} whose method name starts at {@code method}:
     * the line must be {@code id level state } and then the method, state 0 (in use); else -1
     * (code no longer in use, or not a method line).
     */
    private static int levelInUse(String codelist, int line, int method) {
        long[] fields = new long[3];
        int p = line;
        for (int f = 0; f < fields.length; f++) {
            while (p < method && codelist.charAt(p) == ' ') {
                p++;
            }
            int digits = p;
            long v = 0;
            while (p < method && codelist.charAt(p) >= '0' && codelist.charAt(p) <= '9' && p - digits < 9) {
                v = v * 10 + (codelist.charAt(p++) - '0');
            }
            if (p == digits || p >= method || codelist.charAt(p) != ' ') {
                return -1;
            }
            fields[f] = v;
        }
        return p + 1 == method && fields[2] == 0 ? (int) fields[1] : -1;
    }

    /**
     * Whether the JIT is idle: no compilation running and none queued, from the command {@code
     * jcmd PID Compiler.queue} runs. Its output is a header per section ({@code Current compiles:},
     * {@code C1 compile queue:}, ...) followed by one line per task, or {@code Empty}.
     */
    public boolean compilerIdle() {
        return idle(command(QUEUE_COMMAND));
    }

    static boolean idle(String queue) {
        for (String line : queue.split("\n")) {
            String l = line.trim();
            if (!l.isEmpty() && !l.endsWith(":") && !l.equals("Empty")) {
                return false;
            }
        }
        return true;
    }

    String codelist() {
        return command(COMMAND);
    }

    private String command(String command) {
        try {
            return (String) server.invoke(name, command, new Object[0], new String[0]);
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the JIT's state (" + command + "): " + e, e);
        }
    }
}
