package dev.framepipe.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Frame connections: {@code pipeline_connections_active} and
 * {@code pipeline_connections_opened_total}. The active count is also the server's own
 * count for {@code max-connections}. An instance bound to no registry (the start-up warm-up's
 * connections) counts its active connections only.
 */
public final class ConnectionMetrics implements MeterBinder {

    private final AtomicInteger active = new AtomicInteger();
    private Counter opened;

    @Override
    public void bindTo(MeterRegistry registry) {
        Gauge.builder(MetricNames.CONNECTIONS_ACTIVE, active, AtomicInteger::get)
                .description("Open frame connections")
                .register(registry);
        opened = Counter.builder(MetricNames.CONNECTIONS_OPENED)
                .description("Accepted frame connections")
                .register(registry);
    }

    /** Counts an accepted connection; returns the number now open. */
    public int opened() {
        if (opened != null) {
            opened.increment();
        }
        return active.incrementAndGet();
    }

    public void closed() {
        active.decrementAndGet();
    }

}
