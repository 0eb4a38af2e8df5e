package dev.framepipe.config;

import java.time.Duration;

/** The validated configuration of one server. Build it with {@link ConfigLoader}. */
public record FramepipeConfig(
        String bindAddress,
        int framePort,
        int httpPort,
        int ioThreads,
        int workerParallelism,
        int ringCapacity,
        int maxFrameBytes,
        int maxInFlight,
        int maxConnections,
        Duration idleTimeout,
        Duration drainDelay,
        Duration drainTimeout,
        Duration closeLinger,
        Transport transport,
        AllocatorKind allocator,
        int writeBufferHighWater,
        int writeBufferLowWater,
        int parallelThresholdFloats,
        long inlineMaxBytes,
        int warmupRounds,
        Duration maxConnectionAge,
        Duration slowFrameGrace,
        long slowFrameMinRate,
        long directMemoryBudget,
        TlsSettings tls,
        HttpSettings http,
        LogLevel logLevel,
        LogFormat logFormat) {

    public enum Transport { AUTO, EPOLL, NIO }

    public enum AllocatorKind { POOLED, ADAPTIVE }

    public enum ClientAuth { NONE, OPTIONAL, REQUIRE }

    public enum TlsProvider { AUTO, OPENSSL, JDK }

    /** The least severe log records written: error, warn, info or debug. */
    public enum LogLevel { ERROR, WARN, INFO, DEBUG }

    /** text: one line per record; json: one JSON object per line (dev.framepipe.logging). */
    public enum LogFormat { TEXT, JSON }

    /**
     * TLS of the frame port (and, with {@code httpTls}, of the HTTP port). {@code certChain}
     * null means plain TCP; {@code ca} is null unless client certificates are asked for.
     */
    public record TlsSettings(java.nio.file.Path certChain, java.nio.file.Path key, ClientAuth clientAuth,
            java.nio.file.Path ca, TlsProvider provider, Duration reloadInterval, Duration handshakeTimeout,
            boolean httpTls) {

        public boolean enabled() {
            return certChain != null;
        }
    }

    /**
     * Limits of the HTTP port ({@code /metrics}, {@code /health/*}): at most {@code maxConnections}
     * open; a request must arrive complete within {@code headerTimeout} of its first byte (or of
     * the connection opening); a keep-alive connection is closed after {@code idleTimeout} without
     * a request; request line and header lines are bounded in bytes.
     */
    public record HttpSettings(int maxConnections, Duration headerTimeout, Duration idleTimeout,
            int maxRequestLine, int maxHeaderBytes) {
    }

    /** The defaults, as {@code config/framepipe.yaml} states them. */
    public static FramepipeConfig defaults() {
        return ConfigLoader.fromValues(java.util.Map.of());
    }

    /**
     * I/O threads after resolving 0 to the number of CPUs. All of them, since the I/O threads do
     * most of the work themselves: small batches are answered where they were read and large
     * STATS frames folded as they arrive; the workers take only large SCALE, PING and text
     * frames. Measured on 2 cores against raw, 2 I/O threads against 1: STATS 64 0.62 against
     * 0.52 of raw's frames/s, PING 0.71 against 0.63, STATS of 4 MiB 0.88 against 0.72 of its
     * bytes/s (docs/performance.md).
     */
    public int effectiveIoThreads() {
        return ioThreads > 0 ? ioThreads : defaultIoThreads(Runtime.getRuntime().availableProcessors());
    }

    /** The I/O threads that {@code io-threads: 0} means on a machine with {@code cpus} CPUs. */
    public static int defaultIoThreads(int cpus) {
        return Math.max(1, cpus);
    }

    /** Worker threads after resolving 0 to the number of CPUs. */
    public int effectiveWorkerParallelism() {
        return workerParallelism > 0 ? workerParallelism : Runtime.getRuntime().availableProcessors();
    }
}
