package dev.framepipe.config;

import java.util.Locale;

/**
 * Every setting of the service: its key (in the YAML file and as {@code --key} flag), its
 * environment variable, its default, and a one-line description. {@code config/framepipe.yaml}
 * lists the same settings with the same defaults (a test keeps the two in step).
 */
public enum Setting {
    BIND_ADDRESS("bind-address", "0.0.0.0", "address both ports listen on"),
    FRAME_PORT("frame-port", "7070", "TCP port of the frame protocol (0 = any free port)"),
    HTTP_PORT("http-port", "9464", "HTTP port of /metrics and /health (0 = any free port)"),
    IO_THREADS("io-threads", "0", "Netty I/O threads, one ring each (0 = the number of CPUs)"),
    WORKER_PARALLELISM("worker-parallelism", "0", "ForkJoinPool worker threads (0 = number of CPUs)"),
    RING_CAPACITY("ring-capacity", "1024", "slots in each I/O thread's SPSC ring (power of two)"),
    MAX_FRAME_BYTES("max-frame-bytes", "16MiB", "largest accepted value of a frame's length field"),
    MAX_IN_FLIGHT("max-in-flight", "1024", "unanswered frames per connection before reading pauses"),
    MAX_CONNECTIONS("max-connections", "10000", "open frame connections; further ones are closed at once"),
    IDLE_TIMEOUT("idle-timeout", "5min", "close a connection with no complete frame for this long (0 = never)"),
    DRAIN_DELAY("drain-delay", "5s", "after SIGTERM, serve on while not ready (503) for this long before closing the port and draining, so load balancers move new connections away first"),
    DRAIN_TIMEOUT("drain-timeout", "30s", "longest drain (after drain-delay) before connections are cut"),
    CLOSE_LINGER("close-linger", "2s", "after the server's FIN, how long unread input is discarded before the socket is released (also after an HTTP refusal); before the FIN of a drain or a retirement, how long to wait for a request to decline"),
    TRANSPORT("transport", "auto", "auto (epoll where available), epoll or nio"),
    ALLOCATOR("allocator", "pooled", "pooled (PooledByteBufAllocator) or adaptive (Netty 4.2's default)"),
    WRITE_BUFFER_HIGH_WATER("write-buffer-high-water", "1MiB", "outbound bytes queued on a connection before reading it pauses"),
    WRITE_BUFFER_LOW_WATER("write-buffer-low-water", "512KiB", "outbound bytes below which a paused connection reads again"),
    PARALLEL_THRESHOLD_FLOATS("parallel-threshold-floats", "262144", "a FLOATS frame at the workers with more values than this is split across the pool (SCALE, and STATS that arrived in one read; larger STATS are folded as they arrive)"),
    INLINE_MAX_BYTES("inline-max-bytes", "64KiB", "a batch of at most this many request bytes is answered by its I/O thread itself while none of that thread's batches is with the workers, saving the hand-off (0 = every batch goes to the workers)"),
    WARMUP_ROUNDS("warmup-rounds", "20000", "kernel calls on scratch memory before turning ready, so the JIT compiled them (0 = none)"),
    MAX_CONNECTION_AGE("max-connection-age", "45s", "after this long (+-10% jitter) a connection finishes what it read, declines the rest and closes, so connections spread over new replicas (0 = never)"),
    SLOW_FRAME_GRACE("slow-frame-grace", "10s", "time a started frame may take before slow-frame-min-rate applies"),
    SLOW_FRAME_MIN_RATE("slow-frame-min-rate", "1KiB", "bytes/s a started frame must keep arriving at after the grace, or the connection is closed (0 = off)"),
    DIRECT_MEMORY_BUDGET("direct-memory-budget", "0", "pooled direct memory of all connections at which reading pauses (0 = 3/4 of the JVM's max direct memory)"),
    TLS_CERT_CHAIN("tls-cert-chain", "none", "PEM certificate chain of the frame port (none = plain TCP)"),
    TLS_KEY("tls-key", "none", "PEM private key (PKCS#8) of tls-cert-chain"),
    TLS_CLIENT_AUTH("tls-client-auth", "none", "client certificates: none, optional or require (mutual TLS, checked against tls-ca)"),
    TLS_CA("tls-ca", "none", "PEM bundle of the CAs that sign client certificates"),
    TLS_PROVIDER("tls-provider", "auto", "auto (OpenSSL where it loads, else the JDK), openssl or jdk"),
    TLS_RELOAD_INTERVAL("tls-reload-interval", "10s", "how often the certificate, key and CA files are checked for changes (0 = never)"),
    TLS_HANDSHAKE_TIMEOUT("tls-handshake-timeout", "10s", "a TLS handshake not finished in this time closes the connection"),
    HTTP_TLS("http-tls", "false", "true: the HTTP port also speaks TLS with the frame port's certificate"),
    HTTP_MAX_CONNECTIONS("http-max-connections", "100", "open HTTP connections; further ones are closed at once"),
    HTTP_HEADER_TIMEOUT("http-header-timeout", "10s", "a request must arrive complete (line, headers, any body) within this time of its first byte, or of the connection opening: else 408 and close"),
    HTTP_IDLE_TIMEOUT("http-idle-timeout", "2min", "close a keep-alive HTTP connection that starts no request (or does not read its answer) for this long"),
    HTTP_MAX_REQUEST_LINE("http-max-request-line", "4KiB", "longest HTTP request line (method, path, version): longer gets 414 and close"),
    HTTP_MAX_HEADER_BYTES("http-max-header-bytes", "8KiB", "most bytes of all header lines of a request together: more gets 431 and close"),
    LOG_LEVEL("log-level", "info", "least severe log records written: error, warn, info or debug"),
    LOG_FORMAT("log-format", "text", "text (one line per record) or json (one JSON object per line, for log collectors)");

    private final String key;
    private final String defaultValue;
    private final String description;

    Setting(String key, String defaultValue, String description) {
        this.key = key;
        this.defaultValue = defaultValue;
        this.description = description;
    }

    /** Name in the YAML file and, prefixed with {@code --}, on the command line. */
    public String key() {
        return key;
    }

    /** Environment variable: {@code FRAMEPIPE_} and the key in upper snake case. */
    public String envName() {
        return "FRAMEPIPE_" + key.toUpperCase(Locale.ROOT).replace('-', '_');
    }

    public String defaultValue() {
        return defaultValue;
    }

    public String description() {
        return description;
    }

    public static Setting byKey(String key) {
        for (Setting s : values()) {
            if (s.key.equals(key)) {
                return s;
            }
        }
        return null;
    }
}
