package dev.framepipe.server;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How long one connection may live under {@code max-connection-age}. Each connection gets its
 * own lifetime, drawn uniformly within +-10% of the setting: connections opened together (a
 * fleet of clients started at once, or all of them reconnecting after a deploy) then retire
 * spread out over a window instead of reconnecting in one stampede.
 */
final class ConnectionAge {

    /** Fraction of the setting by which a lifetime may be shorter or longer. */
    static final double JITTER = 0.10;

    /** Message of the SHUTTING_DOWN answer that declines the first frame after the age. */
    static final String DECLINE_MESSAGE = "connection reached max-connection-age; request not started, "
            + "send it again on a new connection";

    private ConnectionAge() {
    }

    /** A fresh lifetime in nanoseconds; 0 when connections never age out. */
    static long lifetimeNanos(Duration maxAge) {
        return lifetimeNanos(maxAge, ThreadLocalRandom.current().nextDouble());
    }

    /**
     * @param uniform a number in [0, 1) that picks the point within the jitter window
     * @return the lifetime in nanoseconds (at least 1), or 0 when {@code maxAge} is zero
     */
    static long lifetimeNanos(Duration maxAge, double uniform) {
        long nanos = maxAge.toNanos();
        if (nanos <= 0) {
            return 0;
        }
        double factor = 1 - JITTER + 2 * JITTER * uniform;
        return Math.max(1, (long) (nanos * factor));
    }
}
