package dev.framepipe.loadgen;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * How late the machine runs a thread that asks to wake up: a daemon thread sleeps 1 ms at a
 * time and records by how much each wake-up overshot (the idea of Gil Tene's jHiccup). A load
 * run reports it beside its own latency, because a stall of the machine (a descheduled vCPU, a
 * kernel thread holding a CPU, a full run queue) delays every frame in flight, whatever serves
 * them: a tail no lower than the hiccups is the machine's, not the server's.
 *
 * <p>The meter sleeps with the same scheduling class as the load generator's own threads, so it
 * sees what they see. It costs one short wake-up per millisecond. Values recorded: nanoseconds of
 * lateness ({@code >= 0}); the timer slack of an ordinary Linux thread (50 us) is part of them.
 */
public final class HiccupMeter implements AutoCloseable {

    /** How long each sleep asks for. */
    static final long RESOLUTION_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    /** Something that sleeps about the given nanoseconds (tests pass a fake). */
    interface Sleeper {
        void sleep(long nanos) throws InterruptedException;
    }

    private final Recorder recorder = new Recorder(TimeUnit.MINUTES.toNanos(1), 3);
    private final LongSupplier clock;
    private final Sleeper sleeper;
    private final Thread thread;
    private volatile boolean closed;

    /** Starts measuring on a new daemon thread, {@code framepipe-hiccups}. */
    public static HiccupMeter start() {
        return new HiccupMeter(System::nanoTime, nanos -> Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000)));
    }

    HiccupMeter(LongSupplier clock, Sleeper sleeper) {
        this.clock = clock;
        this.sleeper = sleeper;
        this.thread = new Thread(this::measure, "framepipe-hiccups");
        thread.setDaemon(true);
        thread.start();
    }

    private void measure() {
        while (!closed) {
            long before = clock.getAsLong();
            try {
                sleeper.sleep(RESOLUTION_NANOS);
            } catch (InterruptedException e) {
                return; // close()
            }
            long late = clock.getAsLong() - before - RESOLUTION_NANOS;
            recorder.recordValue(Math.min(Math.max(0, late), TimeUnit.MINUTES.toNanos(1)));
        }
    }

    /**
     * What was recorded since the previous call (or since the start), in nanoseconds; the
     * recorder starts afresh. Any thread.
     */
    public Histogram interval(Histogram recycle) {
        return recorder.getIntervalHistogram(recycle);
    }

    /**
     * Stops the thread and waits for it. Never throws: an interrupt of the caller ends the wait
     * and stays set, so that the caller's own clean-up still runs.
     */
    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Whether the measuring thread still runs (tests). */
    boolean running() {
        return thread.isAlive();
    }
}
