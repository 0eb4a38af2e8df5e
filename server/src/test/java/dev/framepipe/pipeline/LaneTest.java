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
 * batch; batches left in the rings when everything has stopped are released. Each test submits
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
        }, 64, 0);
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

    @Test
    void batchesLeftInTheRingsWhenEverythingStoppedAreReleased() throws Exception {
        ForkJoinPool stopped = new ForkJoinPool(1);
        stopped.shutdown();
        Lane cut = new Lane(2, loop, stopped, b -> { }, 64, 0);
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
