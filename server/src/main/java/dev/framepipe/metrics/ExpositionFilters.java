package dev.framepipe.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import java.util.List;

/**
 * Meter filters that keep the exposition clean for {@code promtool check metrics} (CI runs it
 * on a scrape; docs/observability.md): Micrometer's own binders trip two of its lint rules.
 * They must be configured on the registry before any binder registers a meter.
 */
final class ExpositionFilters {

    private ExpositionFilters() {
    }

    static List<MeterFilter> all() {
        return List.of(
                // "process_cpu_time_ns_total": promtool rejects abbreviated units; ProcessCpuMetrics
                // exposes the same reading as the standard process_cpu_seconds_total instead.
                MeterFilter.deny(id -> id.getName().equals("process.cpu.time")),
                new MeterFilter() {
                    @Override
                    public Meter.Id map(Meter.Id id) {
                        if (id.getName().equals("system.cpu.count")) {
                            // a gauge named *_count reads as a histogram's _count series

                            return id.withName("system.cpu.processors");
                        }
                        return id;
                    }
                });
    }
}
