package dev.framepipe.server;

import static dev.framepipe.testing.Frames.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.framepipe.client.FramepipeClient;
import dev.framepipe.client.Response;
import dev.framepipe.config.Setting;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.testing.RawConnection;
import dev.framepipe.testing.TestServers;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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

    static double pauses(FramepipeServer server, String reason) {
        return server.registry().get("pipeline.backpressure.pauses").tag("reason", reason).functionCounter().count();
    }
}
