package dev.framepipe.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

/**
 * {@code pipeline_connections_refused_total{reason}}: connections refused at accept or closed by
 * the server because they hit a limit; the {@code http_*} reasons are the HTTP port's, the others
 * the frame port's. The reasons are a fixed set, so the label stays bounded whatever clients do;
 * every counter is registered up front (a scrape shows 0, not nothing) and resolved once, so
 * counting is one increment.
 */
public final class RefusalMetrics implements MeterBinder {

    public enum Reason {
        /** Accepted beyond {@code max-connections}: closed at once. */
        MAX_CONNECTIONS,
        /** Accepted while starting or draining: closed at once. */
        NOT_READY,
        /** No complete frame for {@code idle-timeout}: closed cleanly. */
        IDLE_TIMEOUT,
        /** A started frame arrived slower than {@code slow-frame-min-rate} (slowloris): closed. */
        SLOW_FRAME,
        /** The TLS handshake failed or timed out (no or untrusted client certificate, wrong protocol, ...). */
        TLS_HANDSHAKE,
        /** HTTP port: accepted beyond {@code http-max-connections}: closed at once. */
        HTTP_MAX_CONNECTIONS,
        /** HTTP port: a request not complete within {@code http-header-timeout}: 408, closed. */
        HTTP_HEADER_TIMEOUT,
        /** HTTP port: no request for {@code http-idle-timeout} (or an answer the client did not read): closed. */
        HTTP_IDLE_TIMEOUT,
        /** HTTP port: request line, headers or body over their limits: 414, 431 or 413, closed. */
        HTTP_REQUEST_TOO_LARGE,
        /** HTTP port: a request HTTP/1.1 cannot parse: 400, closed. */
        HTTP_BAD_REQUEST;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Map<Reason, Counter> counters = new EnumMap<>(Reason.class);

    @Override
    public void bindTo(MeterRegistry registry) {
        for (Reason r : Reason.values()) {
            counters.put(r, Counter.builder("pipeline.connections.refused")
                    .description("Connections refused or closed because they hit a limit (http_* reasons: the HTTP port)")
                    .tag("reason", r.label())
                    .register(registry));
        }
    }

    public void refused(Reason reason) {
        counters.get(reason).increment();
    }

    public double count(Reason reason) {
        return counters.get(reason).count();
    }
}
