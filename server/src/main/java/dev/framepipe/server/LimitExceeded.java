package dev.framepipe.server;

import dev.framepipe.metrics.RefusalMetrics;

/**
 * User event fired towards the {@link ConnectionHandler} by a guard that found the connection
 * over a limit: the handler stops reading frames, answers what it already admitted, and closes
 * the connection the way the protocol prescribes (answers flushed, FIN, linger). The guard has
 * already counted the refusal.
 */
record LimitExceeded(RefusalMetrics.Reason reason) {
}
