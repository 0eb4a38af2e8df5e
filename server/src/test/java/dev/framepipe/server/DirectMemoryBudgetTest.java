package dev.framepipe.server;

import static dev.framepipe.testing.Frames.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.client.Response;
import dev.framepipe.config.Setting;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.protocol.Ops;
import dev.framepipe.testing.Contention;
import dev.framepipe.testing.RawConnection;
import dev.framepipe.testing.TestServers;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * docs/security.md, direct-memory budget: reading reserves large frames' memory from the budget
 * before it allocates it, so many connections flooding frames larger than the budget never pin
 * much more than the budget, and every frame accepted is answered. Memory is measured here, from
 * outside the budget: the pooled allocator's pinned direct memory, sampled by the test while the
 * flood runs (the clients are plain sockets, so the pool holds only the server's buffers).
 */
class DirectMemoryBudgetTest {

    /** Samples the pool's pinned direct memory every millisecond until stopped; the highest value. */
    private static final class PinnedSampler implements AutoCloseable {
        final AtomicLong peak = new AtomicLong();
        final AtomicBoolean running = new AtomicBoolean(true);
        final Thread thread = Thread.ofPlatform().daemon().start(() -> {
            while (running.get()) {
                peak.accumulateAndGet(PooledByteBufAllocator.DEFAULT.pinnedDirectMemory(), Math::max);
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
            }
        });

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join();
        }
    }

    /**
     * Many connections flooding frames larger than the budget: 4 clients, 6
     * SCALE frames of 1 Mi floats each (assembled, and answered in place), answers left unread
     * for a while, against a 4 MiB budget.
     */
    @Test
    void clientsFloodingFramesLargerThanTheBudgetAreAllAnsweredWithinTheBound() throws Exception {
        int clients = 4;
        int perClient = 6;
        int floats = 1 << 20;
        for (int round = 0; round < Contention.rounds(1); round++) {
            // The pool is the JVM's: what earlier tests' servers still pin is not this server's.
            long before = PooledByteBufAllocator.DEFAULT.pinnedDirectMemory();
            try (FramepipeServer server = TestServers.start(Map.of(Setting.DIRECT_MEMORY_BUDGET, "4MiB"));
                 RawConnection good = new RawConnection(server.framePort());
                 PinnedSampler pinned = new PinnedSampler()) {
                byte[] frame = frame(Kinds.FLOATS, Ops.SCALE, 0, scalePayload(2f, 1f, new float[floats]));
                List<RawConnection> flooders = new ArrayList<>();
                List<CompletableFuture<Void>> sends = new ArrayList<>();
                try {
                    for (int c = 0; c < clients; c++) {
                        RawConnection f = new RawConnection(server.framePort());
                        flooders.add(f);
                        sends.add(CompletableFuture.runAsync(() -> {
                            try {
                                for (int i = 0; i < perClient; i++) {
                                    ByteBuffer.wrap(frame).order(ByteOrder.LITTLE_ENDIAN).putLong(8, i);
                                    f.send(frame.clone());
                                    Contention.pause();
                                }
                            } catch (Exception e) {
                                throw new IllegalStateException(e);
                            }
                        }));
                    }
                    // The small client is answered throughout, while the flooders' answers wait unread.
                    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
                    int id = 0;
                    while (System.nanoTime() < until) {
                        assertThat(good.send(frame(Kinds.PING, 0, id, utf8("small"))).read().id()).isEqualTo(id);
                        id++;
                    }
                    // Read on every flooder at once: each answer holds its frame's reservation until
                    // it has left, so reading one connection after another could wait forever.
                    List<CompletableFuture<Void>> reads = new ArrayList<>();
                    java.util.concurrent.ExecutorService readers = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
                    for (RawConnection f : flooders) {
                        reads.add(CompletableFuture.runAsync(() -> {
                            try {
                                for (int i = 0; i < perClient; i++) {
                                    Response r = f.read();
                                    assertThat(r.id()).isEqualTo(i);
                                    assertThat(r.isError()).as("%s", r).isFalse();
                                    float[] scaled = r.floats();
                                    assertThat(scaled).hasSize(floats);
                                    assertThat(scaled[0]).isEqualTo(1f);
                                    assertThat(scaled[floats - 1]).isEqualTo(1f);
                                }
                            } catch (java.io.IOException e) {
                                throw new java.io.UncheckedIOException(e);
                            }
                        }, readers));
                    }
                    try {
                        for (CompletableFuture<Void> r : reads) {
                            r.get(60, TimeUnit.SECONDS);
                        }
                    } finally {
                        readers.shutdownNow();
                    }
                    for (CompletableFuture<Void> s : sends) {
                        s.get(30, TimeUnit.SECONDS);
                    }
                } finally {
                    for (RawConnection f : flooders) {
                        f.close();
                    }
                }
                pinned.close();
                long frameBytes = frame.length;
                long budget = server.directMemoryBudget();
                // A frame larger than the budget goes alone: one frame's reservation at a time,
                // plus each connection's read buffers (64 KiB) and the small answers.
                long bound = Math.max(budget, frameBytes) + (clients + 1) * 2L * 64 * 1024 + (1 << 20);
                assertThat(pinned.peak.get() - before)
                        .as("pinned direct memory (bound %,d; %,d pinned before the server started)", bound, before)
                        .isLessThanOrEqualTo(bound);
                assertThat(HardLimitsTest.pauses(server, "direct_memory")).as("reading paused for the budget")
                        .isPositive();
            }
        }
    }

    /**
     * STATS frames are folded as they arrive, so a frame three times the budget is answered
     * exactly without waiting for it, and reading never pauses for direct memory.
     */
    @Test
    void statsFramesLargerThanTheBudgetAreFoldedAsTheyArriveWithoutAReservation() throws Exception {
        int floats = 3 << 20; // 12 MiB of payload against a 4 MiB budget
        float[] values = new float[floats];
        double sum = 0;
        for (int i = 0; i < floats; i++) {
            values[i] = (i % 1000) - 250.5f;
            sum += values[i];
        }
        long before = PooledByteBufAllocator.DEFAULT.pinnedDirectMemory();
        try (FramepipeServer server = TestServers.start(Map.of(Setting.DIRECT_MEMORY_BUDGET, "4MiB"));
             RawConnection c = new RawConnection(server.framePort());
             PinnedSampler pinned = new PinnedSampler()) {
            byte[] frame = frame(Kinds.FLOATS, Ops.STATS, 0, floats(values));
            for (int i = 0; i < 3; i++) {
                ByteBuffer.wrap(frame).order(ByteOrder.LITTLE_ENDIAN).putLong(8, i);
                c.send(frame);
                c.send(frame(Kinds.PING, 0, 100 + i, utf8("behind")));
            }
            for (int i = 0; i < 3; i++) {
                Response r = c.read();
                assertThat(r.id()).isEqualTo(i);
                assertThat(r.isError()).as("%s", r).isFalse();
                assertThat(r.stats().count()).isEqualTo(floats);
                assertThat(r.stats().sum()).isEqualTo(sum);
                assertThat(r.stats().min()).isEqualTo(-250.5);
                assertThat(r.stats().max()).isEqualTo(748.5);
                Response ping = c.read();
                assertThat(ping.id()).isEqualTo(100 + i);
                assertThat(ping.text()).isEqualTo("behind");
            }
            pinned.close();
            assertThat(HardLimitsTest.pauses(server, "direct_memory")).as("reading paused for the budget").isZero();
            assertThat(pinned.peak.get() - before).as("pinned direct memory while 12 MiB frames were folded")
                    .isLessThan(8L << 20);
        }
    }
}
