package dev.framepipe.server;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.netty.util.internal.PlatformDependent;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.LongAdder;

/**
 * The budget for the direct memory that reading may reserve: every large frame (at least
 * {@code FrameDecoder.ASSEMBLE_BYTES}) is assembled in a buffer of exactly its size, and that
 * buffer is allocated only once its bytes are reserved here. A hard bound, counted, not sampled:
 * the sum of reservations never exceeds the budget, except that a single frame larger than the
 * whole budget may have it all to itself when nothing else is reserved (so the server still
 * serves every frame up to {@code max-frame-bytes}).
 *
 * <p>A connection whose frame does not fit stops reading and waits in line. Reservations are
 * granted strictly in arrival order, each only when it fits, and the grant is made here (the
 * bytes are reserved before the connection is told), so a freed megabyte resumes one waiting
 * connection, not all of them at once. A reservation ends when its frame's answer has left
 * (or the frame was cut off).
 *
 * <p>What it bounds, and what it does not: small frames arrive in the socket's read buffers
 * (at most 64 KiB each), which they share, and their memory is bounded per connection by
 * {@code max-in-flight}; docs/security.md gives the worst case and how to size
 * {@code -XX:MaxDirectMemorySize}.
 *
 * <p>Thread safety: reservations come from every I/O thread (only for large frames, so a lock
 * costs nothing measurable); a waiter is called back under the lock and must only hand the
 * grant to its own thread.
 */
public final class DirectMemoryBudget implements MeterBinder {

    /** A connection waiting for a reservation. */
    interface Waiter {
        /**
         * {@code bytes} are now reserved for this waiter, which owns them from now on (it must
         * release them, also when it has closed meanwhile). Called under the budget's lock, from
         * any thread: hop to the connection's own thread.
         */
        void granted(long bytes);
    }

    private record Waiting(Waiter waiter, long bytes) {
    }

    private final long budget;
    /** Bytes reserved now; guarded by this. */
    private long reserved;
    private long peak;
    private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
    private final LongAdder pauses = new LongAdder();

    DirectMemoryBudget(long budget) {
        if (budget <= 0) {
            throw new IllegalArgumentException("budget must be positive, was " + budget);
        }
        this.budget = budget;
    }

    /** The budget of a server: the setting, or 3/4 of the JVM's direct memory limit when it is 0. */
    static DirectMemoryBudget of(long setting) {
        return new DirectMemoryBudget(setting > 0 ? setting : PlatformDependent.maxDirectMemory() / 4 * 3);
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        Gauge.builder("pipeline.direct.memory.budget", this, b -> b.budget)
                .description("Direct memory that reading may reserve for large frames (direct-memory-budget)")
                .baseUnit("bytes")
                .register(registry);
        // Same family as the ring_full / unwritable pauses of RingMetrics, so the same meter type.
        FunctionCounter.builder("pipeline.backpressure.pauses", pauses, LongAdder::sum)
                .description("Times reading a socket was paused")
                .tag("reason", "direct_memory")
                .register(registry);
    }

    /**
     * Reserves {@code bytes} now if they fit and nobody is waiting; else queues {@code waiter},
     * which is {@linkplain Waiter#granted granted} them later, and counts a pause.
     *
     * @return true if reserved now (the caller owns them)
     */
    synchronized boolean reserveOrWait(long bytes, Waiter waiter) {
        if (waiting.isEmpty() && fits(bytes)) {
            grant(bytes);
            return true;
        }
        waiting.add(new Waiting(waiter, bytes));
        pauses.increment();
        return false;
    }

    /** Gives back {@code bytes} and grants waiting reservations that now fit, in order. */
    synchronized void release(long bytes) {
        reserved -= bytes;
        if (reserved < 0) {
            reserved = 0;
            throw new IllegalStateException("direct-memory budget released more than was reserved");
        }
        while (!waiting.isEmpty() && fits(waiting.peek().bytes)) {
            Waiting w = waiting.poll();
            grant(w.bytes);
            w.waiter.granted(w.bytes);
        }
    }

    /** Forgets a waiter whose connection closed before its grant. */
    synchronized void cancel(Waiter waiter) {
        waiting.removeIf(w -> w.waiter == waiter);
        if (!waiting.isEmpty() && fits(waiting.peek().bytes)) {
            release(0); // the head may fit now that a larger request ahead of it is gone
        }
    }

    /** Stopping: nothing more is granted; queued waiters are dropped (their connections are closing). */
    synchronized void stop() {
        waiting.clear();
    }

    private boolean fits(long bytes) {
        return reserved + bytes <= budget || reserved == 0; // a frame larger than the budget goes alone
    }

    private void grant(long bytes) {
        reserved += bytes;
        if (reserved > peak) {
            peak = reserved;
        }
    }

    long budget() {
        return budget;
    }

    synchronized long reserved() {
        return reserved;
    }

    /** Highest reservation total since the last call (tests, soak report). */
    synchronized long peakSinceLastRead() {
        long p = peak;
        peak = reserved;
        return p;
    }
}
