package dev.framepipe.client;

import java.time.Duration;
import java.util.Objects;

/**
 * How a client connects and how much it lets a caller queue: TLS, timeouts and the bounds of
 * back-pressure. Immutable; {@link #defaults()} or {@link #builder()}.
 *
 * <pre>{@code
 * ClientOptions options = ClientOptions.builder()
 *         .tls(ClientTls.trusting(Path.of("pki/ca.crt")))
 *         .requestTimeout(Duration.ofSeconds(5))
 *         .build();
 * try (FramepipeClient client = FramepipeClient.connect("framepipe.internal", 7070, options)) { ... }
 * }</pre>
 */
public final class ClientOptions {

    /** Default {@link #maxInFlight()}: the server's own default {@code max-in-flight}. */
    public static final int DEFAULT_MAX_IN_FLIGHT = 1024;
    /** Default {@link #maxQueuedBytes()}: 1 MiB. */
    public static final int DEFAULT_MAX_QUEUED_BYTES = 1 << 20;
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(30);

    private static final ClientOptions DEFAULTS = new Builder().build();

    private final ClientTls tls;
    private final Duration connectTimeout;
    private final Duration requestTimeout;
    private final int maxInFlight;
    private final int maxQueuedBytes;
    private final ClientEventLoops eventLoops;

    private ClientOptions(Builder b) {
        this.tls = b.tls;
        this.connectTimeout = b.connectTimeout;
        this.requestTimeout = b.requestTimeout;
        this.maxInFlight = b.maxInFlight;
        this.maxQueuedBytes = b.maxQueuedBytes;
        this.eventLoops = b.eventLoops;
    }

    /** Plain TCP, the default timeouts and bounds, a private I/O thread. */
    public static ClientOptions defaults() {
        return DEFAULTS;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.tls = tls;
        b.connectTimeout = connectTimeout;
        b.requestTimeout = requestTimeout;
        b.maxInFlight = maxInFlight;
        b.maxQueuedBytes = maxQueuedBytes;
        b.eventLoops = eventLoops;
        return b;
    }

    /** TLS settings, or null for plain TCP. */
    public ClientTls tls() {
        return tls;
    }

    /** Longest wait for the TCP connection and, with TLS, for the handshake. */
    public Duration connectTimeout() {
        return connectTimeout;
    }

    /**
     * The deadline of a request that sets none ({@link Request#withTimeout(Duration)}): from the
     * call that sends it to its answer, waiting for room included.
     */
    public Duration requestTimeout() {
        return requestTimeout;
    }

    /** Most requests sent and not yet answered; a send waits (or {@code trySend} declines) beyond it. */
    public int maxInFlight() {
        return maxInFlight;
    }

    /**
     * Most bytes of requests the client holds that the network has not taken yet; a send waits
     * (or {@code trySend} declines) while more are queued. One request may exceed it on its own.
     */
    public int maxQueuedBytes() {
        return maxQueuedBytes;
    }

    /** Shared I/O threads, or null for a private thread per client. */
    public ClientEventLoops eventLoops() {
        return eventLoops;
    }

    @Override
    public String toString() {
        return "ClientOptions[tls=" + tls + ", connectTimeout=" + connectTimeout + ", requestTimeout=" + requestTimeout
                + ", maxInFlight=" + maxInFlight + ", maxQueuedBytes=" + maxQueuedBytes
                + ", eventLoops=" + (eventLoops == null ? "private" : eventLoops.threads() + " shared") + "]";
    }

    /** Settings for {@link ClientOptions}; each setter checks its value. */
    public static final class Builder {
        private ClientTls tls;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
        private int maxInFlight = DEFAULT_MAX_IN_FLIGHT;
        private int maxQueuedBytes = DEFAULT_MAX_QUEUED_BYTES;
        private ClientEventLoops eventLoops;

        private Builder() {
        }

        /** TLS (null: plain TCP, the default). */
        public Builder tls(ClientTls tls) {
            this.tls = tls;
            return this;
        }

        /** Positive; default 10 s. */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = positive(timeout, "connectTimeout");
            return this;
        }

        /** Positive; default 30 s. */
        public Builder requestTimeout(Duration timeout) {
            this.requestTimeout = positive(timeout, "requestTimeout");
            return this;
        }

        /** At least 1; default {@value #DEFAULT_MAX_IN_FLIGHT}. */
        public Builder maxInFlight(int requests) {
            if (requests < 1) {
                throw new IllegalArgumentException("maxInFlight must be at least 1, not " + requests);
            }
            this.maxInFlight = requests;
            return this;
        }

        /** At least 1024; default {@value #DEFAULT_MAX_QUEUED_BYTES}. */
        public Builder maxQueuedBytes(int bytes) {
            if (bytes < 1024) {
                throw new IllegalArgumentException("maxQueuedBytes must be at least 1024, not " + bytes);
            }
            this.maxQueuedBytes = bytes;
            return this;
        }

        /** Shared I/O threads (null: a private thread per client, the default). */
        public Builder eventLoops(ClientEventLoops loops) {
            this.eventLoops = loops;
            return this;
        }

        public ClientOptions build() {
            return new ClientOptions(this);
        }

        private static Duration positive(Duration d, String name) {
            Objects.requireNonNull(d, name);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive, not " + d);
            }
            return d;
        }
    }
}
