package dev.framepipe.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.config.MeterFilter;
import java.util.List;
import java.util.Map;

/**
 * Meter filters that keep the exposition clean for {@code promtool check metrics} (CI runs it
 * on a scrape; docs/observability.md): Micrometer's own binders trip three of its lint rules.
 * They must be configured on the registry before any binder registers a meter.
 */
final class ExpositionFilters {

    /** Help texts for the Netty allocator binder's gauges, which Micrometer registers without any. */
    private static final Map<String, String> NETTY_HELP = Map.of(
            "netty.allocator.memory.used", "Memory held by the Netty allocator, by memory type",
            "netty.allocator.memory.pinned", "Memory of the Netty allocator pinned by buffers in use",
            "netty.allocator.pooled.arenas", "Arenas of the pooled Netty allocator, by memory type",
            "netty.allocator.pooled.cache.size", "Size of the pooled Netty allocator's thread-local caches",
            "netty.allocator.pooled.chunk.size", "Chunk size of the pooled Netty allocator",
            "netty.allocator.pooled.threadlocal.caches", "Thread-local caches of the pooled Netty allocator");

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
                        String help = NETTY_HELP.get(id.getName());
                        if (help == null && id.getName().startsWith("netty.allocator.")) {
                            help = "Netty allocator meter (Micrometer NettyAllocatorMetrics)";
                        }
                        if (help != null && id.getDescription() == null) {
                            return new Meter.Id(id.getName(), Tags.of(id.getTagsAsIterable()), id.getBaseUnit(), help,
                                    id.getType());
                        }
                        return id;
                    }
                });
    }
}
