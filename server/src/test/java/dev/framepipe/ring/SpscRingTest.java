package dev.framepipe.ring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SpscRingTest {

    @Test
    void assertionsAreEnabledSoThreadChecksRun() {
        boolean enabled = false;
        assert enabled = true;
        assertThat(enabled).as("tests must run with -ea: the single-thread checks are asserts").isTrue();
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4, 8, 1024, 1 << 16})
    void holdsExactlyCapacityElements(int capacity) {
        SpscRing<Integer> ring = new SpscRing<>(capacity);
        assertThat(ring.capacity()).isEqualTo(capacity);
        assertThat(ring.isEmpty()).isTrue();
        assertThat(ring.size()).isZero();
        for (int i = 0; i < capacity; i++) {
            assertThat(ring.offer(i)).as("offer %d of %d", i, capacity).isTrue();
            assertThat(ring.size()).isEqualTo(i + 1);
        }
        assertThat(ring.offer(-1)).as("offer into a full ring").isFalse();
        assertThat(ring.size()).isEqualTo(capacity);
        assertThat(ring.isEmpty()).isFalse();
        // one poll frees exactly one slot
        assertThat(ring.poll()).isEqualTo(0);
        assertThat(ring.offer(capacity)).isTrue();
        assertThat(ring.offer(-1)).isFalse();
        for (int i = 1; i <= capacity; i++) {
            assertThat(ring.poll()).isEqualTo(i);
        }
        assertThat(ring.poll()).isNull();
        assertThat(ring.isEmpty()).isTrue();
        assertThat(ring.size()).isZero();
        assertNoSlotRetained(ring);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 8, 64})
    void fifoAcrossManyWrapArounds(int capacity) {
        SpscRing<Long> ring = new SpscRing<>(capacity);
        long next = 0;
        long expected = 0;
        // uneven fill/empty cycles so that the indices wrap at every possible offset
        for (int round = 0; round < 10_000; round++) {
            int fill = 1 + (round * 7) % capacity;
            for (int i = 0; i < fill; i++) {
                assertThat(ring.offer(next++)).isTrue();
            }
            int take = 1 + (round * 3) % fill;
            for (int i = 0; i < take; i++) {
                assertThat(ring.poll()).isEqualTo(expected++);
            }
            while (ring.size() > 0) {
                assertThat(ring.poll()).isEqualTo(expected++);
            }
        }
        assertThat(expected).isEqualTo(next);
        assertThat(ring.poll()).isNull();
        assertNoSlotRetained(ring);
    }

    @Test
    void emptyRingPollsNull() {
        SpscRing<String> ring = new SpscRing<>(4);
        assertThat(ring.poll()).isNull();
        assertThat(ring.poll()).isNull();
        ring.offer("a");
        assertThat(ring.poll()).isEqualTo("a");
        assertThat(ring.poll()).isNull();
    }

    @Test
    void rejectsNull() {
        SpscRing<String> ring = new SpscRing<>(4);
        assertThatThrownBy(() -> ring.offer(null)).isInstanceOf(NullPointerException.class);
        assertThat(ring.isEmpty()).isTrue();
        assertThatThrownBy(() -> ring.drain(null, 1)).isInstanceOf(NullPointerException.class);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, -2, 3, 5, 6, 7, 12, 1000, (1 << 30) + 1, Integer.MAX_VALUE, Integer.MIN_VALUE, 1 << 31})
    void rejectsCapacityThatIsNotAPowerOfTwo(int capacity) {
        assertThatThrownBy(() -> new SpscRing<>(capacity))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(String.valueOf(capacity));
    }

    @Test
    void drainTakesAtMostLimitInFifoOrder() {
        SpscRing<Integer> ring = new SpscRing<>(16);
        for (int i = 0; i < 10; i++) {
            ring.offer(i);
        }
        List<Integer> seen = new ArrayList<>();
        assertThat(ring.drain(seen::add, 4)).isEqualTo(4);
        assertThat(seen).containsExactly(0, 1, 2, 3);
        assertThat(ring.drain(seen::add, 0)).isZero();
        assertThat(ring.drain(seen::add, 100)).isEqualTo(6);
        assertThat(seen).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        assertThat(ring.drain(seen::add, 100)).isZero();
        assertThatThrownBy(() -> ring.drain(seen::add, -1)).isInstanceOf(IllegalArgumentException.class);
        assertNoSlotRetained(ring);
    }

    @Test
    void drainFreesEachSlotBeforeHandingItsElementOver() {
        SpscRing<Integer> ring = new SpscRing<>(4);
        for (int i = 0; i < 4; i++) {
            ring.offer(i);
        }
        List<Integer> sizes = new ArrayList<>();
        ring.drain(e -> sizes.add(ring.size()), 4);
        assertThat(sizes).containsExactly(3, 2, 1, 0);
    }

    @Test
    void drainToleratesReentrantPoll() {
        SpscRing<Integer> ring = new SpscRing<>(8);
        for (int i = 0; i < 6; i++) {
            ring.offer(i);
        }
        List<Integer> seen = new ArrayList<>();
        int n = ring.drain(e -> {
            seen.add(e);
            Integer next = ring.poll(); // the consumer may poll from inside its own drain
            if (next != null) {
                seen.add(next);
            }
        }, 10);
        assertThat(n).isEqualTo(3);
        assertThat(seen).containsExactly(0, 1, 2, 3, 4, 5);
    }

    @Test
    void drainThatThrowsHasConsumedOnlyTheElementItThrewOn() {
        SpscRing<Integer> ring = new SpscRing<>(8);
        for (int i = 0; i < 5; i++) {
            ring.offer(i);
        }
        List<Integer> seen = new ArrayList<>();
        assertThatThrownBy(() -> ring.drain(e -> {
            seen.add(e);
            if (e == 2) {
                throw new IllegalStateException("boom");
            }
        }, 10)).hasMessage("boom");
        assertThat(seen).containsExactly(0, 1, 2);
        assertThat(ring.poll()).isEqualTo(3);
        assertThat(ring.poll()).isEqualTo(4);
    }

    @Test
    void pollReleasesTheElement() {
        SpscRing<Object> ring = new SpscRing<>(2);
        for (int i = 0; i < 5; i++) {
            ring.offer(new Object());
            ring.offer(new Object());
            assertThat(ring.poll()).isNotNull();
            assertThat(ring.poll()).isNotNull();
            assertNoSlotRetained(ring);
        }
    }

    @Test
    void secondProducerThreadFailsTheAssertion() throws Exception {
        SpscRing<Integer> ring = new SpscRing<>(4);
        ring.offer(1); // this thread is now the producer
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread other = Thread.ofPlatform().start(() -> {
            try {
                ring.offer(2);
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        other.join(TimeUnit.SECONDS.toMillis(10));
        assertThat(failure.get()).isInstanceOf(AssertionError.class).hasMessageContaining("single producer");
        assertThat(ring.size()).isEqualTo(1);
        assertThat(ring.offer(3)).isTrue(); // the real producer carries on
    }

    @Test
    void secondConsumerThreadFailsTheAssertion() throws Exception {
        SpscRing<Integer> ring = new SpscRing<>(4);
        ring.offer(1);
        ring.offer(2);
        assertThat(ring.poll()).isEqualTo(1); // this thread is now the consumer
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread other = Thread.ofPlatform().start(() -> {
            try {
                ring.poll();
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        other.join(TimeUnit.SECONDS.toMillis(10));
        assertThat(failure.get()).isInstanceOf(AssertionError.class).hasMessageContaining("single consumer");
        assertThat(ring.poll()).isEqualTo(2);
    }

    @Test
    void consumerRoleCanBeHandedOverExplicitly() throws Exception {
        SpscRing<Integer> ring = new SpscRing<>(4);
        ring.offer(1);
        ring.offer(2);
        assertThat(ring.poll()).isEqualTo(1);
        assertThat(ring.releaseConsumerRole()).isTrue();
        // Thread.start orders the release before the other thread's claim
        CompletableFuture<Integer> other = new CompletableFuture<>();
        Thread.ofPlatform().start(() -> {
            try {
                other.complete(ring.poll());
            } catch (Throwable t) {
                other.completeExceptionally(t);
            }
        });
        assertThat(other.get(10, TimeUnit.SECONDS)).isEqualTo(2);
    }

    /**
     * Sequence number {@code i} travels as the preallocated box {@code BOXES[i & BOX_MASK]}: no
     * allocation, so the test measures the ring rather than the GC on a busy 2-core machine. The
     * consumer checks the exact object for every position. The ring holds at most 1024, far less
     * than the 65536 boxes, so any loss, duplicate or reordering inside the ring's window shows as
     * a wrong box, and a loss or duplicate of a whole multiple of 65536 would leave the final
     * count wrong.
     */
    static final int BOX_MASK = (1 << 16) - 1;
    static final Long[] BOXES = new Long[BOX_MASK + 1];

    static {
        for (int i = 0; i <= BOX_MASK; i++) {
            BOXES[i] = (long) i;
        }
    }

    /**
     * Twenty million sequence numbers through a 1024-slot ring: none lost, duplicated or
     * reordered. A correctness test, with no bound on time but the suite's default timeout (a
     * hang); how fast the ring moves elements is RingBenchmark's business.
     */
    @Test
    void twoThreadsMoveTwentyMillionSequenceNumbers() throws Exception {
        final long count = 20_000_000L;
        final SpscRing<Long> ring = new SpscRing<>(1024);
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final long[] consumed = new long[1];
        Thread consumer = Thread.ofPlatform().name("ring-consumer").start(() -> {
            try {
                long expected = 0;
                int idle = 0;
                while (expected < count) {
                    Long v = ring.poll();
                    if (v == null) {
                        idle = backOff(idle);
                        continue;
                    }
                    idle = 0;
                    if (v != BOXES[(int) (expected & BOX_MASK)]) {
                        throw new AssertionError("at sequence " + expected + " got box " + v);
                    }
                    expected++;
                }
                consumed[0] = expected;
                if (ring.poll() != null) {
                    throw new AssertionError("element after the last one");
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        Thread producer = Thread.ofPlatform().name("ring-producer").start(() -> {
            try {
                int idle = 0;
                for (long i = 0; i < count && failure.get() == null; ) {
                    if (ring.offer(BOXES[(int) (i & BOX_MASK)])) {
                        i++;
                        idle = 0;
                    } else {
                        idle = backOff(idle);
                    }
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        producer.join();
        consumer.join();
        if (failure.get() != null) {
            throw new AssertionError("ring failed", failure.get());
        }
        assertThat(consumed[0]).isEqualTo(count);
        assertThat(ring.isEmpty()).isTrue();
        assertNoSlotRetained(ring);
    }

    /** The same with batch drain on the consumer side and varying limits. */
    @Test
    void twoThreadsWithBatchDrain() throws Exception {
        final long count = 20_000_000L;
        final SpscRing<Long> ring = new SpscRing<>(256);
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final long[] expected = new long[1];
        Thread consumer = Thread.ofPlatform().name("ring-drainer").start(() -> {
            try {
                int idle = 0;
                int limit = 1;
                while (expected[0] < count) {
                    int n = ring.drain(v -> {
                        if (v != BOXES[(int) (expected[0] & BOX_MASK)]) {
                            throw new AssertionError("at sequence " + expected[0] + " got box " + v);
                        }
                        expected[0]++;
                    }, limit);
                    if (n > limit) {
                        throw new AssertionError("drained " + n + " > limit " + limit);
                    }
                    limit = limit % 300 + 1;
                    idle = n == 0 ? backOff(idle) : 0;
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        int idle = 0;
        for (long i = 0; i < count && failure.get() == null; ) {
            if (ring.offer(BOXES[(int) (i & BOX_MASK)])) {
                i++;
                idle = 0;
            } else {
                idle = backOff(idle);
            }
        }
        consumer.join();
        if (failure.get() != null) {
            throw new AssertionError("ring failed", failure.get());
        }
        assertThat(expected[0]).isEqualTo(count);
        assertNoSlotRetained(ring);
    }

    @Test
    void sizeIsAlwaysWithinBoundsWhileOtherThreadsRace() throws Exception {
        final SpscRing<Integer> ring = new SpscRing<>(8);
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread producer = Thread.ofPlatform().start(() -> {
            while (System.nanoTime() < deadline) {
                ring.offer(1);
            }
        });
        Thread consumer = Thread.ofPlatform().start(() -> {
            while (System.nanoTime() < deadline) {
                ring.poll();
            }
        });
        Thread observer = Thread.ofPlatform().start(() -> {
            while (System.nanoTime() < deadline) {
                int size = ring.size();
                if (size < 0 || size > 8) {
                    failure.set(new AssertionError("size " + size));
                }
            }
        });
        producer.join();
        consumer.join();
        observer.join();
        assertThat(failure.get()).isNull();
    }

    /** Spin briefly, then yield: only 2 cores, and other processes compete for them. */
    static int backOff(int idle) {
        if (idle < 64) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
        return idle + 1;
    }

    static void assertNoSlotRetained(SpscRing<?> ring) {
        // white-box: the buffer is package-private; after everything was taken every slot is null
        assertThat(Arrays.stream(ring.buffer).filter(Objects::nonNull).count())
                .as("references retained by the ring").isZero();
    }
}
