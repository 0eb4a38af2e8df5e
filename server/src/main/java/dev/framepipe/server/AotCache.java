package dev.framepipe.server;

import java.lang.management.ManagementFactory;

/**
 * Whether this JVM runs with the ahead-of-time cache ({@code -XX:AOTCache}, JEP 483/514/515:
 * classes loaded and linked, and method profiles, from a training run). A missing, stale
 * (another jar) or foreign (another JVM build) cache does not stop the JVM: it prints
 * {@code [error][aot]} lines on standard error and runs without one, which this class tells apart
 * from a cache in use for the start-up log.
 */
final class AotCache {

    enum Status {
        /** No {@code -XX:AOTCache} option. */
        NONE,
        /** The cache is mapped: classes come from it. */
        USED,
        /** The option names a cache the JVM could not use. */
        NOT_USED,
        /** A training run: {@code -XX:AOTCacheOutput} records a cache at exit. */
        RECORDING,
        /** Named, but whether it is used cannot be read (jdk.internal.misc not exported). */
        UNKNOWN
    }

    private AotCache() {
    }

    /** The value of the JVM option {@code name} ({@code AOTCache}, {@code AOTCacheOutput}), or "". */
    static String option(String name) {
        try {
            return ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class)
                    .getVMOption(name).getValue();
        } catch (RuntimeException | LinkageError e) {
            // no jdk.management or no such option: read the command line instead
            String prefix = "-XX:" + name + "=";
            String value = "";
            for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
                if (arg.startsWith(prefix)) {
                    value = arg.substring(prefix.length());
                }
            }
            return value;
        }
    }

    static Status status() {
        if (!option("AOTCacheOutput").isEmpty()) {
            return Status.RECORDING;
        }
        if (option("AOTCache").isEmpty()) {
            return Status.NONE;
        }
        // With -XX:AOTCache the JVM maps that cache or none at all (not its default CDS archive),
        // so "an archive is in use" means this one.
        try {
            Object using = Class.forName("jdk.internal.misc.CDS").getMethod("isUsingArchive").invoke(null);
            return Boolean.TRUE.equals(using) ? Status.USED : Status.NOT_USED;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return Status.UNKNOWN;
        }
    }

    /** For the start-up log. */
    static String describe() {
        return switch (status()) {
            case NONE -> "no AOT cache (-XX:AOTCache not given)";
            case USED -> "AOT cache " + option("AOTCache") + " used";
            case NOT_USED -> "AOT cache " + option("AOTCache") + " NOT used (missing, or made from another jar or JVM:"
                    + " the JVM's [aot] messages above say which); started without it";
            case RECORDING -> "training run: recording the AOT cache " + option("AOTCacheOutput") + " at exit";
            case UNKNOWN -> "AOT cache " + option("AOTCache") + " given (whether the JVM used it cannot be read without"
                    + " --add-exports java.base/jdk.internal.misc=ALL-UNNAMED)";
        };
    }
}
