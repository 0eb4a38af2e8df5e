package dev.framepipe.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The allocator's gauges: bytes, the allocator kind and memory type as labels, nothing per instance. */
class AllocatorMemoryMetricsTest {

    @Test
    void aPooledAllocatorShowsUsedAndPinnedDirectAndHeapMemoryInBytes() {
        PooledByteBufAllocator pooled = new PooledByteBufAllocator(true);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new AllocatorMemoryMetrics(pooled).bindTo(registry);
        assertThat(registry.getMeters().stream().map(m -> m.getId().getName() + m.getId().getTags())
                .collect(Collectors.toSet())).isEqualTo(Set.of(
                "netty.allocator.memory.used[tag(allocator=pooled), tag(memory_type=direct)]",
                "netty.allocator.memory.used[tag(allocator=pooled), tag(memory_type=heap)]",
                "netty.allocator.memory.pinned[tag(allocator=pooled), tag(memory_type=direct)]",
                "netty.allocator.memory.pinned[tag(allocator=pooled), tag(memory_type=heap)]"));
        registry.getMeters().forEach(m -> assertThat(m.getId().getBaseUnit()).isEqualTo("bytes"));

        ByteBuf held = pooled.directBuffer(100_000);
        try {
            Gauge used = registry.get("netty.allocator.memory.used").tag("memory_type", "direct").gauge();
            Gauge pinned = registry.get("netty.allocator.memory.pinned").tag("memory_type", "direct").gauge();
            assertThat(used.value()).isGreaterThanOrEqualTo(100_000);
            assertThat(pinned.value()).isGreaterThanOrEqualTo(100_000).isLessThanOrEqualTo(used.value());
        } finally {
            held.release();
        }
        assertThat(registry.get("netty.allocator.memory.pinned").tag("memory_type", "direct").gauge().value()).isZero();
    }

    @Test
    void theAdaptiveAllocatorShowsWhatItHolds() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new AllocatorMemoryMetrics(new AdaptiveByteBufAllocator()).bindTo(registry);
        assertThat(registry.getMeters().stream().map(m -> m.getId().getName() + "/" + m.getId().getTag("allocator")
                + "/" + m.getId().getTag("memory_type")).collect(Collectors.toSet()))
                .isEqualTo(Set.of("netty.allocator.memory.used/adaptive/direct", "netty.allocator.memory.used/adaptive/heap"));
    }
}
