package dev.framepipe.server;

import dev.framepipe.config.FramepipeConfig;
import dev.framepipe.metrics.ConnectionErrors;
import dev.framepipe.metrics.RefusalMetrics;
import java.util.Set;
import java.util.function.BooleanSupplier;

/** What every connection of one server shares: settings and the set of open connections. */
record ConnectionContext(
        FramepipeConfig config,
        Set<GracefulClose> registry,
        BooleanSupplier drainingFlag,
        RefusalMetrics refusals,
        DirectMemoryBudget memory,
        ConnectionErrors errors) {

    boolean draining() {
        return drainingFlag.getAsBoolean();
    }
}
