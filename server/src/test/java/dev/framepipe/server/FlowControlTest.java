package dev.framepipe.server;

import static dev.framepipe.testing.Frames.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.framepipe.client.FramepipeClient;
import dev.framepipe.client.Response;
import dev.framepipe.config.Setting;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.testing.Contention;
import dev.framepipe.testing.RawConnection;
import dev.framepipe.testing.TestServers;
import io.micrometer.core.instrument.FunctionCounter;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.OutputStream;
import java.lang.reflect.Field;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Back-pressure: the server stops reading a connection instead of buffering without bound, and
 * reads again when there is room; nothing is dropped or reordered on the way.
 */
class FlowControlTest {

    @Test
    void aClientThatStopsReadingIsPausedWithBoundedMemoryAndGetsEveryAnswerOnceItReads() throws Exception {
        try (FramepipeServer server = TestServers.start(Map.of(
                Setting.WRITE_BUFFER_HIGH_WATER, "256KiB", Setting.WRITE_BUFFER_LOW_WATER, "128KiB"));
             RawConnection c = new RawConnection(server.framePort())) {
            c.socket().setReceiveBufferSize(64 * 1024);
            int frames = 4_000;
            byte[] payload = new byte[16 * 1024]; // 4000 x 16 KiB = 64 MiB of answers, far above any buffer
            for (int i = 0; i < payload.length; i++) {
                payload[i] = (byte) i;
            }
            AtomicInteger written = new AtomicInteger();
            Thread sender = Thread.ofPlatform().daemon().start(() -> {
                try {
                    OutputStream out = c.socket().getOutputStream();
                    for (int i = 0; i < frames; i++) {
                        out.write(frame(Kinds.PING, 0, i, payload));
                        written.incrementAndGet();
                    }
                    out.flush();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            // The server runs out of room to write, stops reading, and the sender blocks in write().
            await().atMost(Duration.ofSeconds(20)).until(() -> pauses(server, "unwritable") >= 1);
            AtomicInteger lastSeen = new AtomicInteger(-1);
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(300))
                    .until(() -> lastSeen.getAndSet(written.get()) == written.get()); // the sender is stuck in write()
            assertThat(written.get()).as("the server must not swallow all input").isLessThan(frames);
            long direct = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
            assertThat(direct).as("pooled direct memory while paused").isLessThan(64L * 1024 * 1024);

            for (int i = 0; i < frames; i++) {
                Response r = c.read();
                assertThat(r.id()).isEqualTo(i);
                assertThat(r.payload()).isEqualTo(payload);
            }
            sender.join(10_000);
            assertThat(written.get()).isEqualTo(frames);
        }
    }

    @Test
    void aFullRingPausesReadingAndEveryFrameIsStillAnsweredInOrder() throws Exception {
        try (FramepipeServer server = TestServers.start(Map.of(Setting.RING_CAPACITY, "4", Setting.IO_THREADS, "1"));
             FramepipeClient a = FramepipeClient.connect("127.0.0.1", server.framePort());
             FramepipeClient b = FramepipeClient.connect("127.0.0.1", server.framePort())) {
            List<CompletableFuture<Response>> answers = new ArrayList<>();
            float[] values = new float[50_000];
            for (int i = 0; i < 400; i++) {
                answers.add((i % 2 == 0 ? a : b).stats(values));
            }
            CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            for (CompletableFuture<Response> f : answers) {
                assertThat(f.join().stats().count()).isEqualTo(values.length);
            }
            assertThat(pauses(server, "ring_full")).isGreaterThan(0);
        }
    }

    /**
     * The in-flight limit seen from outside: with every worker held, nothing is answered, so a
     * connection may have exactly max-in-flight frames decoded and must then stop reading (its
     * sender stalls, no other pause reason counts); released, it gets every answer in order.
     * Ignoring the limit lets the server read on until the ring is full: far more frames decoded.
     */
    @Test
    void theInFlightLimitStopsReadingAtTheLimitAndLosesNothing() throws Exception {
        int limit = 4;
        int frames = 1_000; // 16 MiB: far more than the socket buffers hold, far less than a full ring
        // inline-max-bytes 0: every batch goes to the (held) workers, none is answered on the I/O thread
        try (FramepipeServer server = TestServers.start(Map.of(Setting.MAX_IN_FLIGHT, "" + limit,
                Setting.INLINE_MAX_BYTES, "0"));
             RawConnection c = new RawConnection(server.framePort())) {
            byte[][] payloads = new byte[frames][];
            for (int i = 0; i < frames; i++) {
                payloads[i] = new byte[16 * 1024];
                for (int j = 0; j < payloads[i].length; j++) {
                    payloads[i][j] = (byte) (i + j); // each answer tells which frame it echoes
                }
            }
            AtomicInteger written = new AtomicInteger();
            Thread sender;
            try (HeldWorkers held = HeldWorkers.hold(server)) {
                sender = Thread.ofPlatform().daemon().start(() -> {
                    try {
                        OutputStream out = c.socket().getOutputStream();
                        for (int i = 0; i < frames; i++) {
                            out.write(frame(Kinds.PING, 0, i, payloads[i]));
                            written.incrementAndGet();
                            Contention.pause();
                        }
                        out.flush();
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                await().atMost(Duration.ofSeconds(20)).until(() -> received(server) >= limit);
                AtomicInteger lastSeen = new AtomicInteger(-1);
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300))
                        .until(() -> lastSeen.getAndSet(written.get()) == written.get()); // the sender is stuck
                assertThat(received(server)).as("frames decoded while none can be answered").isEqualTo(limit);
                assertThat(written.get()).as("the server stopped reading").isLessThan(frames);
                for (String reason : List.of("ring_full", "unwritable", "direct_memory")) {
                    assertThat(pauses(server, reason)).as("pauses for %s: the in-flight limit alone paused", reason)
                            .isZero();
                }
            }
            for (int i = 0; i < frames; i++) {
                Response r = c.read();
                assertThat(r.id()).isEqualTo(i);
                assertThat(r.payload()).as("answer %d", i).isEqualTo(payloads[i]);
            }
            sender.join(10_000);
            assertThat(written.get()).isEqualTo(frames);
            assertThat(received(server)).isEqualTo(frames);
        }
    }

    /** Many pauses and resumptions at a limit of 2, through the client library: nothing lost or reordered. */
    @Test
    void theInFlightLimitPausesAConnectionWithoutLosingFrames() throws Exception {
        try (FramepipeServer server = TestServers.start(Map.of(Setting.MAX_IN_FLIGHT, "2"));
             FramepipeClient client = FramepipeClient.connect("127.0.0.1", server.framePort())) {
            List<CompletableFuture<Response>> answers = new ArrayList<>();
            for (int i = 0; i < 2_000; i++) {
                answers.add(client.upper("frame " + i));
            }
            for (int i = 0; i < answers.size(); i++) {
                assertThat(answers.get(i).get(30, TimeUnit.SECONDS).text()).isEqualTo("FRAME " + i);
            }
        }
    }

    /** Frames the server decoded (every kind), from its own counters. */
    static double received(FramepipeServer server) {
        return server.registry().get("pipeline.frames.received").functionCounters().stream()
                .mapToDouble(FunctionCounter::count).sum();
    }

    /**
     * Every worker of a server's pool kept busy until closed: frames handed to the workers stay
     * unanswered (start the server with {@code inline-max-bytes} 0 so that every batch is), so a test sees what the connection does while its frames are in flight. The
     * pool is private to the server (reached by reflection: production has no use for a handle
     * on it). Each holder parks rather than blocking on a lock, so the pool never adds a
     * compensating thread; {@code released} is volatile, so the holders see the release.
     */
    static final class HeldWorkers implements AutoCloseable {
        private volatile boolean released;

        static HeldWorkers hold(FramepipeServer server) throws Exception {
            Field field = FramepipeServer.class.getDeclaredField("workers");
            field.setAccessible(true);
            ForkJoinPool pool = (ForkJoinPool) field.get(server);
            HeldWorkers held = new HeldWorkers();
            int workers = pool.getParallelism();
            CountDownLatch running = new CountDownLatch(workers);
            for (int i = 0; i < workers; i++) {
                pool.execute(() -> {
                    running.countDown();
                    while (!held.released) {
                        LockSupport.parkNanos(1_000_000);
                    }
                });
            }
            if (!running.await(20, TimeUnit.SECONDS)) {
                held.close();
                throw new IllegalStateException("only " + (workers - running.getCount()) + " of " + workers
                        + " workers could be held");
            }
            return held; // every worker runs a holder now: nothing else runs on the pool
        }

        @Override
        public void close() {
            released = true;
        }
    }

    static double pauses(FramepipeServer server, String reason) {
        return server.registry().get("pipeline.backpressure.pauses").tag("reason", reason).functionCounter().count();
    }
}
