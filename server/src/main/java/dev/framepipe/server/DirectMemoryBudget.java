package dev.framepipe.server;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.internal.PlatformDependent;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * The budget for the direct memory that all connections together hold in the buffer pool.
 *
 * <p>Why sampled, not counted per frame: asking the pool costs about 2 µs (it walks its arenas),
 * far too much per frame, and counting bytes ourselves would miss what Netty allocates on our
 * behalf (socket reads, TLS records). So one task samples the memory every
 * {@value #SAMPLE_MILLIS} ms and flips a volatile flag that the admission gate reads for free.
 * Above the budget, connections stop admitting frames (their reading pauses after the frame
 * they hold); below the low mark ({@value #LOW_PERCENT}% of the budget) every paused connection
 * resumes. A frame already admitted is always answered: the budget only delays new ones.
 *
 * <p>What is measured: for the pooled allocator, the memory pinned by live buffers (not the
 * chunks the pool keeps for reuse, which never shrink to zero and would keep the gate shut
 * after a burst); otherwise the allocator's used direct memory.
 *
 * <p>Overshoot: a connection that is mid-frame when the flag flips finishes reading that frame
 * (it cannot be admitted without its last byte), so the worst case is the budget plus one
 * frame per connection; docs/security.md says how to size it.
 *
 * <p>Liveness: if memory stays above the low mark while nothing that could free it is moving
 * (every connection is waiting and the pinned memory is only their held frames), one waiting
 * connection is granted a single frame per sample, so the server never stalls for good.
 */
public final class DirectMemoryBudget implements MeterBinder {

    private static final System.Logger LOG = System.getLogger(DirectMemoryBudget.class.getName());

    static final long SAMPLE_MILLIS = 5;
    static final int LOW_PERCENT = 75;
    /** Samples without a fall in memory before one waiter is let through. */
    private static final int STUCK_SAMPLES = 20;

    /** A paused connection's way back: called from the sampler; it must hop to its own thread. */
    interface Waiter {
        void memoryAvailable(boolean grant);
    }

    private final long budget;
    private final long lowMark;
    private final LongSupplier used;
    private final Queue<Waiter> waiting = new ConcurrentLinkedQueue<>();
    private volatile boolean over;
    private volatile long peak;
    private long lastSample = Long.MAX_VALUE;
    private int stuckSamples;
    private ScheduledFuture<?> sampler;
    private final LongAdder pauses = new LongAdder();

    DirectMemoryBudget(long budget, LongSupplier used) {
        this.budget = budget;
        this.lowMark = budget / 100 * LOW_PERCENT;
        this.used = used;
    }

    /** The budget of a server: the setting, or 3/4 of the JVM's direct memory limit when it is 0. */
    static DirectMemoryBudget forAllocator(long setting, ByteBufAllocator allocator) {
        long budget = setting > 0 ? setting : PlatformDependent.maxDirectMemory() / 4 * 3;
        LongSupplier used;
        if (allocator instanceof PooledByteBufAllocator pooled) {
            used = pooled::pinnedDirectMemory;
        } else if (allocator instanceof ByteBufAllocatorMetricProvider provider) {
            used = () -> provider.metric().usedDirectMemory();
        } else {
            used = PlatformDependent::usedDirectMemory;
        }
        return new DirectMemoryBudget(budget, used);
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        Gauge.builder("pipeline.direct.memory.budget", this, b -> b.budget)
                .description("Direct memory at which frame connections stop reading (direct-memory-budget)")
                .baseUnit("bytes")
                .register(registry);
        // Same family as the ring_full / unwritable pauses of RingMetrics, so the same meter type.
        FunctionCounter.builder("pipeline.backpressure.pauses", pauses, LongAdder::sum)
                .description("Times reading a socket was paused")
                .tag("reason", "direct_memory")
                .register(registry);
    }

    void start(EventExecutor executor) {
        sampler = executor.scheduleAtFixedRate(this::sample, SAMPLE_MILLIS, SAMPLE_MILLIS, TimeUnit.MILLISECONDS);
        LOG.log(System.Logger.Level.INFO, "direct-memory budget " + budget + " bytes (resume below " + lowMark + ")");
    }

    void stop() {
        if (sampler != null) {
            sampler.cancel(false);
        }
        Waiter w;
        while ((w = waiting.poll()) != null) {
            w.memoryAvailable(false); // let paused connections finish their drain
        }
    }

    /** Read by the admission gate of every connection: one volatile read. */
    boolean overBudget() {
        return over;
    }

    /** A connection paused for memory; it is called back when the memory falls (or to make progress). */
    void await(Waiter waiter) {
        pauses.increment();
        waiting.add(waiter);
        if (!over) {
            releaseAll(); // the memory fell between the gate's look and this call
        }
    }

    long budget() {
        return budget;
    }

    /** Highest sampled value since the last call (tests, soak report). */
    long takePeak() {
        long p = peak;
        peak = 0;
        return p;
    }

    private void sample() {
        try {
            long now = used.getAsLong();
            if (now > peak) {
                peak = now;
            }
            if (!over && now >= budget) {
                over = true;
                stuckSamples = 0;
            } else if (over && now <= lowMark) {
                over = false;
                releaseAll();
            } else if (over) {
                stuckSamples = now < lastSample ? 0 : stuckSamples + 1;
                if (stuckSamples >= STUCK_SAMPLES) {
                    stuckSamples = 0;
                    Waiter w = waiting.poll();
                    if (w != null) {
                        w.memoryAvailable(true);
                    }
                }
            }
            lastSample = now;
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "direct-memory sample failed", e);
        }
    }

    private void releaseAll() {
        Waiter w;
        while ((w = waiting.poll()) != null) {
            w.memoryAvailable(false);
        }
    }
}
