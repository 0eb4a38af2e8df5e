package dev.framepipe.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.lang.management.ManagementFactory;

/**
 * {@code process_cpu_seconds_total}: CPU time used by the JVM process, under the name every
 * Prometheus client uses. Micrometer's {@code ProcessorMetrics} exposes the same reading as
 * {@code process_cpu_time_ns_total}, which promtool rejects (abbreviated unit);
 * {@link ExpositionFilters} drops that one.
 */
final class ProcessCpuMetrics implements MeterBinder {

    /** Held strongly here: Micrometer keeps a function counter's state object only weakly. */
    private static final java.lang.management.OperatingSystemMXBean OS = ManagementFactory.getOperatingSystemMXBean();

    @Override
    public void bindTo(MeterRegistry registry) {
        if (!(OS instanceof com.sun.management.OperatingSystemMXBean os) || os.getProcessCpuTime() < 0) {
            return; // not measurable on this JVM
        }
        FunctionCounter.builder(MetricNames.PROCESS_CPU, os, o -> o.getProcessCpuTime() / 1e9)
                .description("CPU time used by the process")
                .baseUnit("seconds")
                .register(registry);
    }
}
