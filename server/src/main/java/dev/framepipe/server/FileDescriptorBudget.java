package dev.framepipe.server;

import dev.framepipe.config.ConfigException;
import dev.framepipe.config.FramepipeConfig;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;

/**
 * Both ports take their connections' descriptors from one per-process open-file limit. If the
 * connection caps together did not fit under it, whichever port accepted more would leave the
 * other none (the HTTP port could take the frame port down), and the accept loop would fail with
 * EMFILE instead of refusing cleanly. So start-up stops, naming the limit and the settings,
 * unless {@code max-connections + http-max-connections + margin} fits.
 *
 * <p>The margin is what the process holds besides connections. Measured on an idle server (one
 * I/O thread, epoll): 48 descriptors: 29 jars and the JDK's modules file, stdin/out/err, 2
 * listening sockets, 3 per epoll event loop (epoll, eventfd, timerfd: accept and each I/O
 * thread), 2 for the HTTP port's NIO selector, /dev/random and /dev/urandom, a pipe. On top come
 * short-lived ones: sockets accepted beyond a cap before they are closed (Netty accepts up to 16
 * per round, per port), the certificate files a TLS reload reads, /proc files the process
 * metrics read, and what diagnostics open (jcmd's attach socket, a heap dump or JFR file). 128
 * covers the measured 48 plus those with room to spare; each I/O thread adds its 3.
 */
public final class FileDescriptorBudget {

    /** Descriptors the process keeps besides connections and I/O threads (see the class comment). */
    static final int BASE = 128;
    /** epoll, eventfd and timerfd of each I/O thread's event loop. */
    static final int PER_IO_THREAD = 3;

    private FileDescriptorBudget() {
    }

    /** Descriptors kept for the process itself: {@link #BASE} and 3 per I/O thread. */
    public static long margin(FramepipeConfig config) {
        return BASE + (long) PER_IO_THREAD * config.effectiveIoThreads();
    }

    /** The open-file limit the configuration needs. */
    public static long required(FramepipeConfig config) {
        return (long) config.maxConnections() + config.http().maxConnections() + margin(config);
    }

    /**
     * This process's open-file limit (the soft one, which is what {@code open} and {@code accept}
     * obey; HotSpot raises it to the hard limit at start, {@code -XX:+MaxFDLimit}), or -1 where
     * the JVM does not report one.
     */
    public static long processLimit() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
            return unix.getMaxFileDescriptorCount();
        }
        return -1;
    }

    /** Checks the configuration against this process's limit. */
    static void check(FramepipeConfig config) {
        check(config, processLimit());
    }

    /**
     * @param limit the open-file limit; negative when unknown (then nothing is checked)
     * @throws ConfigException when the configuration's connections do not fit
     */
    public static void check(FramepipeConfig config, long limit) {
        long needed = required(config);
        if (limit < 0 || needed <= limit) {
            return;
        }
        throw new ConfigException("cannot start: the open-file limit of this process is " + limit
                + " (ulimit -n), but max-connections (" + config.maxConnections() + ") + http-max-connections ("
                + config.http().maxConnections() + ") + " + margin(config)
                + " kept for the process itself (listeners, event loops, jars, logs) need " + needed
                + ". Raise the limit to at least " + needed
                + " (ulimit -n; docker run --ulimit nofile=N; compose: ulimits) or lower max-connections.");
    }
}
