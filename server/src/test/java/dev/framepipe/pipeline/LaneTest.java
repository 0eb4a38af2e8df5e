package dev.framepipe.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.codec.OpType;
import dev.framepipe.kernel.Kernels;
import dev.framepipe.protocol.FrameDescriptor;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.protocol.Ops;
import dev.framepipe.testing.Frames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * When a lane wakes its workers: small batches share one wake-up at the end of the event loop's
 * round (a task queued on the loop), a batch of {@link Lane#WAKE_AT_ONCE_BYTES} or more wakes
 * them as soon as it is submitted; a batch comes back to its owner on the lane's loop, and
 * answers already made come back while the worker is still busy with the rest of its drain
 * batch; batches left in the rings when everything has stopped are released. With an inline
 * processor, small batches are answered on the loop while none of the lane's batches is with the
 * workers, and answers stay in order when the two paths mix. Each test submits
 * from inside a task that keeps the loop busy, so the round cannot end while it looks: the
 * outcome does not depend on timing.
 */
class LaneTest {

    private final EventLoop loop = new DefaultEventLoop();
    private final ForkJoinPool pool = new ForkJoinPool(1);
    private final CountDownLatch answered = new CountDownLatch(1);
    private final BatchOwner owner = new BatchOwner() {
        @Override
        protected void answered(Batch batch, long nowNanos) {
            assertThat(loop.inEventLoop()).as("answers come back on the lane's loop").isTrue();
            assertThat(batch.ok[OpType.STATS.ordinal()]).isEqualTo(1);
            answered.countDown();
        }

        @Override
        protected void endOfRound() {
        }
    };
    private final Lane lane = new Lane(0, loop, pool,
            new BatchProcessor(Kernels.floats(), Kernels.text(), PooledByteBufAllocator.DEFAULT, pool, 1 << 30), 64,
            Lane.IDLE_PARK_NANOS);

    @AfterEach
    void stop() throws InterruptedException {
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
        pool.shutdown();
    }

    /** Submits a batch of one STATS request of {@code floats} zeros, as a connection does. Loop thread. */
    private void submitStats(int floats) {
        byte[] bytes = Frames.frame(Kinds.FLOATS, Ops.STATS, 7, new byte[floats * Float.BYTES]);
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
        Batch b = lane.newBatch(owner);
        OpType type = OpType.of(Kinds.FLOATS, Ops.STATS);
        b.add(buf, 0, bytes.length, type, BatchProcessor.answerBound(type, bytes.length));
        buf.release();
        b.seal(PooledByteBufAllocator.DEFAULT, System.nanoTime());
        lane.submit(b, bytes.length);
    }

    @Test
    void drainsParkBetweenBurstsOnlyWhenEveryLaneCanHoldAWorkerAndOneIsLeft() {
        assertThat(Lane.idleParkNanos(2, 1)).isEqualTo(Lane.IDLE_PARK_NANOS);
        assertThat(Lane.idleParkNanos(16, 8)).isEqualTo(Lane.IDLE_PARK_NANOS);
        assertThat(Lane.idleParkNanos(3, 2)).isEqualTo(Lane.IDLE_PARK_NANOS);
        assertThat(Lane.idleParkNanos(2, 2)).isZero();
        assertThat(Lane.idleParkNanos(1, 2)).isZero();
        assertThat(lane.idleParkNanos()).isEqualTo(Lane.IDLE_PARK_NANOS);
    }

    @Test
    void aLargeBatchReachesAWorkerWhileTheLoopRoundIsStillRunning() throws Exception {
        int floats = Lane.WAKE_AT_ONCE_BYTES / Float.BYTES; // with its header, past the threshold
        boolean taken = loop.submit(() -> {
            submitStats(floats);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (lane.occupancy() > 0 && System.nanoTime() < deadline) {
                Thread.onSpinWait(); // the loop stays busy: its queued publish task cannot run
            }
            return lane.occupancy() == 0;
        }).get(60, TimeUnit.SECONDS);
        assertThat(taken).as("a worker took the large batch before the round ended").isTrue();
        assertThat(answered.await(30, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void smallBatchesWaitForTheEndOfTheRoundAndAreThenAnswered() throws Exception {
        int floats = 64;
        assertThat(FrameDescriptor.HEADER_LENGTH + floats * Float.BYTES).isLessThan(Lane.WAKE_AT_ONCE_BYTES);
        int waiting = loop.submit(() -> {
            submitStats(floats);
            // Nothing but the publish task queued behind this one can wake a worker.
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
            while (System.nanoTime() < until) {
                Thread.onSpinWait();
            }
            return lane.occupancy();
        }).get(60, TimeUnit.SECONDS);
        assertThat(waiting).as("batches still in the request ring when the round ends").isEqualTo(1);
        assertThat(answered.await(30, TimeUnit.SECONDS)).as("answered once the round's publish ran").isTrue();
    }

    @Test
    void answersAlreadyMadeGoBackWhileTheWorkerIsStillBusyWithItsDrainBatch() throws Exception {
        // One drain batch of three request batches: the second takes longer than
        // ANSWER_WAIT_NANOS, the third blocks until the test lets it go.
        CountDownLatch third = new CountDownLatch(1);
        CountDownLatch firstTwo = new CountDownLatch(2);
        java.util.concurrent.atomic.AtomicInteger processed = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean thirdDone = new java.util.concurrent.atomic.AtomicBoolean();
        BatchOwner counting = new BatchOwner() {
            @Override
            protected void answered(Batch batch, long nowNanos) {
                firstTwo.countDown();
            }

            @Override
            protected void endOfRound() {
            }
        };
        Lane slow = new Lane(1, loop, pool, b -> {
            int n = processed.incrementAndGet();
            if (n == 2) {
                java.util.concurrent.locks.LockSupport.parkNanos(Lane.ANSWER_WAIT_NANOS * 10);
            } else if (n == 3) {
                try {
                    third.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                thirdDone.set(true);
            }
        }, 64, 0, null, 0);
        loop.submit(() -> {
            for (int i = 0; i < 3; i++) {
                Batch b = slow.newBatch(counting);
                b.seal(PooledByteBufAllocator.DEFAULT, System.nanoTime());
                slow.submit(b, 0); // small: one wake-up at the end of this task: one drain batch of three
            }
        }).get(30, TimeUnit.SECONDS);
        try {
            assertThat(firstTwo.await(20, TimeUnit.SECONDS))
                    .as("the first two answers came back while the third batch was still being worked on")
                    .isTrue();
            assertThat(thirdDone.get()).as("the third batch is still held").isFalse();
        } finally {
            third.countDown();
        }
    }

    /** Where each batch was answered and in which order it came back, for the inline tests. */
    private static final class Trace {
        final java.util.List<String> processedOn = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        final java.util.List<Integer> answeredOrder = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        final CountDownLatch release = new CountDownLatch(1);
        final java.util.concurrent.atomic.AtomicInteger answers = new java.util.concurrent.atomic.AtomicInteger();
        final BatchOwner owner = new BatchOwner() {
            @Override
            protected void answered(Batch batch, long nowNanos) {
                answeredOrder.add(batch.count);
                answers.incrementAndGet();
            }

            @Override
            protected void endOfRound() {
            }
        };
    }

    /** A lane whose inline step records "inline" and whose workers record "worker", blocking on the first batch until released. */
    private Lane inlineLane(Trace t, long inlineMaxBytes) {
        java.util.concurrent.atomic.AtomicBoolean first = new java.util.concurrent.atomic.AtomicBoolean(true);
        return new Lane(3, loop, pool, b -> {
            t.processedOn.add("worker " + b.count);
            if (first.getAndSet(false)) {
                try {
                    t.release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }, 64, 0, b -> {
            assertThat(loop.inEventLoop()).as("inline batches are answered on the lane's loop").isTrue();
            t.processedOn.add("inline " + b.count);
        }, inlineMaxBytes);
    }

    /** Submits a batch of {@code frames} PING frames declared as {@code bytes} request bytes (its count names it). Loop thread. */
    private static void submitPings(Lane l, BatchOwner o, int frames, long bytes) {
        ByteBuf frame = PooledByteBufAllocator.DEFAULT.directBuffer(64).writeZero(64);
        Batch b = l.newBatch(o);
        for (int i = 0; i < frames; i++) {
            b.add(frame, 0, 64, OpType.of(Kinds.PING, Ops.PING), 64);
        }
        frame.release();
        b.seal(PooledByteBufAllocator.DEFAULT, System.nanoTime());
        l.submit(b, bytes);
    }

    @Test
    void smallBatchesAreAnsweredOnTheLoopItselfWithoutAWorker() throws Exception {
        Trace t = new Trace();
        t.release.countDown();
        Lane l = inlineLane(t, 1024);
        loop.submit(() -> {
            submitPings(l, t.owner, 1, 64);
            submitPings(l, t.owner, 2, 128);
            submitPings(l, t.owner, 3, 1024);
        }).get(30, TimeUnit.SECONDS);
        org.awaitility.Awaitility.await().atMost(30, TimeUnit.SECONDS).until(() -> t.answers.get() == 3);
        assertThat(t.processedOn).containsExactly("inline 1", "inline 2", "inline 3");
        assertThat(t.answeredOrder).containsExactly(1, 2, 3);
        assertThat(l.occupancy()).isZero();
    }

    @Test
    void aSmallBatchBehindOneAtTheWorkersGoesToThemTooSoAnswersStayInOrder() throws Exception {
        Trace t = new Trace();
        Lane l = inlineLane(t, 1024);
        loop.submit(() -> submitPings(l, t.owner, 1, 4096)).get(30, TimeUnit.SECONDS); // large: a worker, held
        org.awaitility.Awaitility.await().atMost(30, TimeUnit.SECONDS).until(() -> t.processedOn.contains("worker 1"));
        loop.submit(() -> submitPings(l, t.owner, 2, 64)).get(30, TimeUnit.SECONDS); // small, but behind it
        Thread.sleep(50);
        assertThat(t.answers.get()).as("nothing answered while the first batch is held").isZero();
        t.release.countDown();
        org.awaitility.Awaitility.await().atMost(30, TimeUnit.SECONDS).until(() -> t.answers.get() == 2);
        assertThat(t.processedOn).containsExactly("worker 1", "worker 2");
        assertThat(t.answeredOrder).containsExactly(1, 2);
        // Once the workers hold nothing of the lane, small batches are answered inline again.
        loop.submit(() -> submitPings(l, t.owner, 3, 64)).get(30, TimeUnit.SECONDS);
        org.awaitility.Awaitility.await().atMost(30, TimeUnit.SECONDS).until(() -> t.answers.get() == 3);
        assertThat(t.processedOn).containsExactly("worker 1", "worker 2", "inline 3");
        assertThat(t.answeredOrder).containsExactly(1, 2, 3);
    }

    @Test
    void aLargeBatchAfterAnInlineOneInTheSameRoundIsAnsweredAfterIt() throws Exception {
        Trace t = new Trace();
        t.release.countDown();
        Lane l = inlineLane(t, 1024);
        loop.submit(() -> {
            submitPings(l, t.owner, 1, 64);
            submitPings(l, t.owner, 2, Lane.WAKE_AT_ONCE_BYTES); // would wake the workers at once
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100);
            while (System.nanoTime() < until) {
                Thread.onSpinWait(); // the round goes on; the large batch must wait for the inline one
            }
            assertThat(t.processedOn).as("the large batch waits for the round's inline batch").isEmpty();
        }).get(30, TimeUnit.SECONDS);
        org.awaitility.Awaitility.await().atMost(30, TimeUnit.SECONDS).until(() -> t.answers.get() == 2);
        assertThat(t.processedOn).containsExactly("inline 1", "worker 2");
        assertThat(t.answeredOrder).containsExactly(1, 2);
    }

    @Test
    void aConnectionThatSubmitsAgainWhileItsAnswersAreWrittenIsAnsweredNextInOrder() throws Exception {
        // As a connection that resumes reading at the end of a round decodes what it had buffered.
        Trace t = new Trace();
        t.release.countDown();
        Lane[] lane = new Lane[1];
        java.util.concurrent.atomic.AtomicInteger submitted = new java.util.concurrent.atomic.AtomicInteger(1);
        BatchOwner resuming = new BatchOwner() {
            @Override
            protected void answered(Batch batch, long nowNanos) {
                t.answeredOrder.add(batch.count);
                t.answers.incrementAndGet();
                if (submitted.get() < 3) {
                    submitPings(lane[0], this, submitted.incrementAndGet(), 64); // while answers are written
                }
            }

            @Override
            protected void endOfRound() {
                if (submitted.get() < 4) {
                    submitPings(lane[0], this, submitted.incrementAndGet(), 64); // at the round's end
                }
            }
        };
        lane[0] = inlineLane(t, 1024);
        loop.submit(() -> submitPings(lane[0], resuming, 1, 64)).get(30, TimeUnit.SECONDS);
        org.awaitility.Awaitility.await().atMost(30, TimeUnit.SECONDS).until(() -> t.answers.get() == 4);
        assertThat(t.answeredOrder).containsExactly(1, 2, 3, 4);
        assertThat(t.processedOn).containsExactly("inline 1", "inline 2", "inline 3", "inline 4");
    }

    @Test
    void withoutAnInlineProcessorEveryBatchGoesToTheWorkers() throws Exception {
        Trace t = new Trace();
        t.release.countDown();
        Lane l = new Lane(4, loop, pool, b -> t.processedOn.add("worker " + b.count), 64, 0, null, 1 << 20);
        loop.submit(() -> submitPings(l, t.owner, 1, 64)).get(30, TimeUnit.SECONDS);
        org.awaitility.Awaitility.await().atMost(30, TimeUnit.SECONDS).until(() -> t.answers.get() == 1);
        assertThat(t.processedOn).containsExactly("worker 1");
    }

    @Test
    void batchesLeftInTheRingsWhenEverythingStoppedAreReleased() throws Exception {
        ForkJoinPool stopped = new ForkJoinPool(1);
        stopped.shutdown();
        Lane cut = new Lane(2, loop, stopped, b -> { }, 64, 0, null, 0);
        ByteBuf frame = PooledByteBufAllocator.DEFAULT.directBuffer(64).writeZero(64);
        Batch batch = loop.submit(() -> {
            Batch b = cut.newBatch(owner);
            b.add(frame, 0, 64, OpType.of(Kinds.PING, Ops.PING), 64);
            b.seal(PooledByteBufAllocator.DEFAULT, System.nanoTime());
            cut.submit(b, Lane.WAKE_AT_ONCE_BYTES); // the pool refuses the drain: the batch stays
            return b;
        }).get(30, TimeUnit.SECONDS);
        assertThat(frame.refCnt()).as("the batch holds the frame's buffer").isEqualTo(2);
        frame.release();
        assertThat(cut.releaseLeftovers()).isEqualTo(1);
        assertThat(frame.refCnt()).as("released with the batch").isZero();
        assertThat(cut.releaseLeftovers()).isZero();
        assertThat(batch).isNotNull();
    }
}
