package dev.framepipe.server;

import dev.framepipe.config.FramepipeConfig;
import java.util.Set;
import java.util.function.BooleanSupplier;

/** What every connection of one server shares: settings and the set of open connections. */
record ConnectionContext(
        FramepipeConfig config,
        Set<ConnectionHandler> registry,
        BooleanSupplier drainingFlag) {

    boolean draining() {
        return drainingFlag.getAsBoolean();
    }
}
