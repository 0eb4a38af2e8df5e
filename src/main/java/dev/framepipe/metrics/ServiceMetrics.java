package dev.framepipe.metrics;

import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyAllocatorMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;

/**
 * The service's meter registry and its binders, one per concern: frames and bytes,
 * connections, rings and back-pressure (bound once the lanes exist), transforms, allocation,
 * the Netty allocator, and the JVM and process.
 */
public final class ServiceMetrics {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final FrameMetrics frames = new FrameMetrics();
    private final ConnectionMetrics connections = new ConnectionMetrics();
    private final TransformMetrics transforms = new TransformMetrics();
    private final PipelineThreads threads = new PipelineThreads();
    private final JvmGcMetrics gc = new JvmGcMetrics();

    public ServiceMetrics(ByteBufAllocator allocator) {
        bind(frames);
        bind(connections);
        bind(transforms);
        bind(new AllocationMetrics(threads));
        if (allocator instanceof ByteBufAllocatorMetricProvider provider) {
            bind(new NettyAllocatorMetrics(provider));
        }
        bind(new JvmMemoryMetrics());
        bind(gc);
        bind(new JvmThreadMetrics());
        bind(new ClassLoaderMetrics());
        bind(new ProcessorMetrics());
        bind(new UptimeMetrics());
        bind(new FileDescriptorMetrics());
    }

    public void bind(MeterBinder binder) {
        binder.bindTo(registry);
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public FrameMetrics frames() {
        return frames;
    }

    public ConnectionMetrics connections() {
        return connections;
    }

    public TransformMetrics transforms() {
        return transforms;
    }

    public PipelineThreads threads() {
        return threads;
    }
}
