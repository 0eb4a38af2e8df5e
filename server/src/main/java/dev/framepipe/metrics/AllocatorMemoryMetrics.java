package dev.framepipe.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.function.ToDoubleFunction;

/**
 * The frame buffers' memory, from the allocator that holds them (Netty allocates it outside the
 * JDK's buffer-pool accounting, so {@code jvm_buffer_memory_used_bytes} does not see it):
 *
 * <pre>
 * netty_allocator_memory_used_bytes{allocator, memory_type}    what the allocator holds from the OS
 * netty_allocator_memory_pinned_bytes{allocator, memory_type}  the part buffers in use occupy (pooled only)
 * </pre>
 *
 * {@code allocator} is the {@code allocator} setting (pooled, adaptive) and {@code memory_type}
 * direct or heap: four series at most, the same in every run. (Micrometer's own
 * NettyAllocatorMetrics names its gauges without a unit and labels them with the allocator's
 * identity hash, a new series at every restart.)
 */
final class AllocatorMemoryMetrics implements MeterBinder {

    private final ByteBufAllocator allocator;
    private final String kind;

    AllocatorMemoryMetrics(ByteBufAllocator allocator) {
        this.allocator = allocator;
        this.kind = allocator instanceof PooledByteBufAllocator ? "pooled" : "adaptive";
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        if (allocator instanceof ByteBufAllocatorMetricProvider provider) {
            ByteBufAllocatorMetric metric = provider.metric();
            gauge(registry, MetricNames.ALLOCATOR_USED, "direct", metric, ByteBufAllocatorMetric::usedDirectMemory,
                    "Memory the Netty allocator holds, by memory type");
            gauge(registry, MetricNames.ALLOCATOR_USED, "heap", metric, ByteBufAllocatorMetric::usedHeapMemory,
                    "Memory the Netty allocator holds, by memory type");
        }
        if (allocator instanceof PooledByteBufAllocator pooled) {
            gauge(registry, MetricNames.ALLOCATOR_PINNED, "direct", pooled, PooledByteBufAllocator::pinnedDirectMemory,
                    "Memory of the Netty allocator occupied by buffers in use, by memory type");
            gauge(registry, MetricNames.ALLOCATOR_PINNED, "heap", pooled, PooledByteBufAllocator::pinnedHeapMemory,
                    "Memory of the Netty allocator occupied by buffers in use, by memory type");
        }
    }

    private <T> void gauge(MeterRegistry registry, String name, String memoryType, T source, ToDoubleFunction<T> read,
            String help) {
        Gauge.builder(name, source, read)
                .description(help)
                .baseUnit(BaseUnits.BYTES)
                .tag("allocator", kind)
                .tag("memory_type", memoryType)
                .strongReference(true)
                .register(registry);
    }
}
