package dev.framepipe.loadgen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/** The hiccup meter records how late its sleeping thread wakes, and nothing else. */
class HiccupMeterTest {

    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    @Test
    void aWakeUpThatComesLateIsRecordedAsItsLatenessAndOnTimeOnesAsZero() throws Exception {
        AtomicLong clock = new AtomicLong();
        AtomicInteger sleeps = new AtomicInteger();
        // Sleeps 1..99 take exactly 1 ms of the fake clock, sleep 50 takes 6 ms, then the sleeper
        // blocks until close() interrupts it.
        HiccupMeter meter = new HiccupMeter(clock::get, nanos -> {
            int n = sleeps.incrementAndGet();
            if (n >= 100) {
                Thread.sleep(Long.MAX_VALUE);
            }
            clock.addAndGet(n == 50 ? 6 * MS : nanos);
        });
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> sleeps.get() >= 100);
            Histogram h = meter.interval(null);
            assertThat(h.getTotalCount()).isEqualTo(99);
            assertThat(h.getValueAtPercentile(50)).isZero();
            assertThat(h.getMaxValue()).isBetween(5 * MS - 5 * MS / 1000, 5 * MS + 5 * MS / 1000);
            assertThat(h.getCountAtValue(0)).isEqualTo(98);
            assertThat(meter.interval(null).getTotalCount()).as("an interval starts afresh").isZero();
        } finally {
            meter.close();
        }
        assertThat(meter.running()).isFalse();
    }

    @Test
    void theRealMeterSamplesAtMostOncePerMillisecondUntilClosed() throws Exception {
        // Event-driven: wait for a few samples however slowly a busy machine runs the sleeper,
        // then bound the count by the milliseconds that really passed (each sample sleeps 1 ms
        // first), not by the time this thread meant to wait.
        long start = System.nanoTime();
        HiccupMeter meter = HiccupMeter.start();
        try {
            AtomicLong samples = new AtomicLong();
            AtomicLong negative = new AtomicLong();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                Histogram h = meter.interval(null);
                if (h.getTotalCount() > 0 && h.getMinValue() < 0) {
                    negative.incrementAndGet();
                }
                return samples.addAndGet(h.getTotalCount()) >= 20;
            });
            long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(samples.get()).as("samples in %d ms", elapsedMillis).isLessThanOrEqualTo(elapsedMillis + 1);
            assertThat(negative.get()).as("intervals with a negative lateness").isZero();
        } finally {
            meter.close();
        }
        assertThat(meter.running()).isFalse();
    }

    @Test
    void closingFromAnInterruptedThreadDoesNotThrowAndLeavesTheInterruptSet() {
        HiccupMeter meter = HiccupMeter.start();
        Thread.currentThread().interrupt();
        try {
            meter.close(); // the load generator's clean-up goes on after it
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> !meter.running());
    }
}
