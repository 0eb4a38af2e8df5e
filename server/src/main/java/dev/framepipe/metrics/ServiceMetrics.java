package dev.framepipe.metrics;

import dev.framepipe.pipeline.LaneCounters;
import dev.framepipe.pipeline.Lane;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBufAllocator;
import java.util.List;

/**
 * The service's meter registry and its binders, one per concern: frames and bytes,
 * connections, rings and back-pressure (bound once the lanes exist), transforms, allocation,
 * the Netty allocator, and the JVM and process. {@link MetricNames} lists every metric.
 */
public final class ServiceMetrics implements AutoCloseable {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ConnectionMetrics connections = new ConnectionMetrics();
    private final ThreadAllocations threads = new ThreadAllocations();
    private final JvmGcMetrics gc = new JvmGcMetrics();
    /**
     * The objects the function counters and gauges read. Micrometer holds those weakly, so this
     * keeps them reachable as long as the registry is.
     */
    private List<LaneCounters> pipelineCounters;
    private List<Lane> lanes;

    public ServiceMetrics(ByteBufAllocator allocator) {
        ExpositionFilters.all().forEach(registry.config()::meterFilter); // before any meter exists
        bind(connections);
        bind(new AllocationMetrics(threads));
        bind(new BuildInfoMetrics(dev.framepipe.BuildInfo.current()));
        bind(new AllocatorMemoryMetrics(allocator));
        bind(new JvmMemoryMetrics());
        bind(gc);
        bind(new JvmThreadMetrics());
        bind(new ClassLoaderMetrics());
        bind(new ProcessorMetrics());
        bind(new ProcessCpuMetrics());
        bind(new UptimeMetrics());
        bind(new FileDescriptorMetrics());
    }

    public void bind(MeterBinder binder) {
        binder.bindTo(registry);
    }

    /** Binds the meters read from the lanes' per-thread counters, once the lanes exist. */
    public void bindPipeline(List<Lane> lanes) {
        this.lanes = List.copyOf(lanes);
        this.pipelineCounters = this.lanes.stream().map(Lane::counters).toList();
        bind(new FrameMetrics(pipelineCounters));
        bind(new TransformMetrics(pipelineCounters));
        bind(new RingMetrics(this.lanes));
        registry.getPrometheusRegistry().register(new FrameDurationCollector(pipelineCounters));
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public ConnectionMetrics connections() {
        return connections;
    }

    public ThreadAllocations threads() {
        return threads;
    }

    /**
     * Unregisters the GC notification listener, which would otherwise keep this registry (and
     * everything its meters read) reachable after the server stopped. Meters stay readable.
     */
    @Override
    public void close() {
        gc.close();
    }
}
