package dev.framepipe.server;

import dev.framepipe.config.FramepipeConfig;
import dev.framepipe.metrics.FrameMetrics;
import dev.framepipe.metrics.RefusalMetrics;
import dev.framepipe.metrics.RingMetrics;
import dev.framepipe.metrics.TransformMetrics;
import java.util.Set;
import java.util.function.BooleanSupplier;

/** What every connection of one server shares: settings, meters, the set of open connections. */
record ConnectionContext(
        FramepipeConfig config,
        FrameMetrics frameMetrics,
        RingMetrics ringMetrics,
        TransformMetrics transformMetrics,
        Set<ConnectionHandler> registry,
        BooleanSupplier drainingFlag,
        RefusalMetrics refusals,
        DirectMemoryBudget memory) {

    boolean draining() {
        return drainingFlag.getAsBoolean();
    }
}
