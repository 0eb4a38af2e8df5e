package dev.framepipe.server;

import io.netty.util.internal.PlatformDependent;
import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * The start-up log line that says what an operator sizes and watches: how long the process took
 * to be ready, the heap and direct-memory limits it runs with, and whether the JVM's
 * ahead-of-time cache (class loading, linking and method profiles from a training run) was used.
 */
final class StartupReport {

    private StartupReport() {
    }

    /** The line, at the moment the server turns ready. */
    static String line() {
        long uptime = ManagementFactory.getRuntimeMXBean().getUptime();
        return String.format(Locale.ROOT, "framepipe ready %.2f s after the JVM started; heap max %s, direct memory max %s; %s",
                uptime / 1000.0, mib(Runtime.getRuntime().maxMemory()), mib(PlatformDependent.maxDirectMemory()),
                AotCache.describe());
    }

    static String mib(long bytes) {
        return bytes >= 10L << 30 ? String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30))
                : (bytes >> 20) + " MiB";
    }
}
