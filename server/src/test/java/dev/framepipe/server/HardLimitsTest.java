package dev.framepipe.server;

import static dev.framepipe.testing.Frames.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.framepipe.client.ClientOptions;
import dev.framepipe.client.FramepipeClient;
import dev.framepipe.client.Response;
import dev.framepipe.config.Setting;
import dev.framepipe.metrics.RefusalMetrics.Reason;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.testing.RawConnection;
import dev.framepipe.testing.TestServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The hard limits over real sockets: each one hit, its refusal counted in
 * {@code pipeline_connections_refused_total{reason}}, and a well-behaved client on the same
 * server answered normally all along.
 */
class HardLimitsTest {

    private final ScheduledExecutorService pacer = Executors.newScheduledThreadPool(2);

    @AfterEach
    void stopPacer() {
        pacer.shutdownNow();
    }

    @Test
    void aClientTricklingAFrameIsClosedAfterItsAnswersAndCountedAsSlowFrame() throws Exception {
        try (FramepipeServer server = TestServers.start(Map.of(
                Setting.SLOW_FRAME_GRACE, "300ms", Setting.SLOW_FRAME_MIN_RATE, "1KiB"));
             RawConnection good = new RawConnection(server.framePort());
             RawConnection slow = new RawConnection(server.framePort())) {
            // A complete frame first: its answer must still arrive before the close.
            slow.send(frame(Kinds.PING, 0, 1, utf8("before")));
            assertThat(slow.read().text()).isEqualTo("before");
            byte[] frame = frame(Kinds.PING, 0, 2, new byte[4096]);
            slow.send(Arrays.copyOf(frame, 20));
            AtomicInteger offset = new AtomicInteger(20);
            // One byte every 50 ms: 20 B/s, far below 1 KiB/s.
            ScheduledFuture<?> trickle = pacer.scheduleAtFixedRate(() -> {
                int at = offset.getAndIncrement();
                try {
                    slow.send(new byte[] {frame[at]});
                } catch (Exception closed) {
                    throw new RuntimeException(closed); // ends the schedule
                }
            }, 50, 50, TimeUnit.MILLISECONDS);

            long id = 100;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (server.refusals().count(Reason.SLOW_FRAME) == 0 && System.nanoTime() < deadline) {
                good.send(frame(Kinds.PING, 0, id, utf8("good")));
                Response r = good.read();
                assertThat(r.id()).isEqualTo(id++);
                await().pollDelay(Duration.ofMillis(20)).until(() -> true);
            }
            assertThat(server.refusals().count(Reason.SLOW_FRAME)).isEqualTo(1);
            assertThat(slow.readsCleanEof()).as("closed cleanly, with FIN").isTrue();
            trickle.cancel(false);
            assertThat(offset.get()).as("the frame was never completed").isLessThan(frame.length);
            assertThat(scrape(server)).contains("pipeline_connections_refused_total{reason=\"slow_frame\"} 1.0");
            assertThat(good.send(frame(Kinds.PING, 0, 999, utf8("after"))).read().text()).isEqualTo("after");
        }
    }

    /**
     * 300 bytes every 25 ms (12 KB/s) against a minimum of 1 KiB/s in windows of 200 ms: every
     * chunk alone is more than a window needs, so only a window without any chunk can close the
     * connection, that is a pause of the sender of a whole window. The frame takes about a second:
     * several windows. On a loaded machine the sender can stall that long; then the close was
     * right, and the test checks that it saw such a pause instead of the answer.
     */
    @Test
    void aSlowButSteadyFrameAboveTheMinimumRateIsAnswered() throws Exception {
        long grace = TimeUnit.MILLISECONDS.toNanos(200);
        try (FramepipeServer server = TestServers.start(Map.of(
                Setting.SLOW_FRAME_GRACE, "200ms", Setting.SLOW_FRAME_MIN_RATE, "1KiB"));
             RawConnection steady = new RawConnection(server.framePort())) {
            byte[] payload = new byte[12_000];
            Arrays.fill(payload, (byte) 'x');
            byte[] frame = frame(Kinds.PING, 0, 7, payload);
            AtomicInteger offset = new AtomicInteger();
            List<Long> sends = java.util.Collections.synchronizedList(new ArrayList<>());
            ScheduledFuture<?> feed = pacer.scheduleAtFixedRate(() -> {
                int from = offset.getAndAdd(300);
                if (from >= frame.length) {
                    throw new IllegalStateException("done"); // ends the schedule
                }
                try {
                    steady.send(Arrays.copyOfRange(frame, from, Math.min(frame.length, from + 300)));
                    sends.add(System.nanoTime());
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }, 0, 25, TimeUnit.MILLISECONDS);
            Response r;
            try {
                r = steady.read();
            } catch (java.io.EOFException closed) {
                r = null;
            }
            feed.cancel(false);
            if (r != null) {
                assertThat(r.id()).isEqualTo(7);
                assertThat(r.payload()).isEqualTo(payload);
                assertThat(server.refusals().count(Reason.SLOW_FRAME)).isZero();
            } else {
                long longest = 0;
                synchronized (sends) {
                    for (int i = 1; i < sends.size(); i++) {
                        longest = Math.max(longest, sends.get(i) - sends.get(i - 1));
                    }
                }
                assertThat(longest).as("closed as too slow: the sender's longest pause (ns), %d chunks sent", sends.size())
                        .isGreaterThanOrEqualTo(grace);
                assertThat(server.refusals().count(Reason.SLOW_FRAME)).isEqualTo(1);
            }
        }
    }

    @Test
    void refusalsForMaxConnectionsAndIdleTimeoutAreCounted() throws Exception {
        try (FramepipeServer server = TestServers.start(Map.of(
                Setting.MAX_CONNECTIONS, "2", Setting.IDLE_TIMEOUT, "2s"));
             RawConnection idle = new RawConnection(server.framePort())) {
            try (RawConnection good = new RawConnection(server.framePort())) {
                assertThat(good.send(frame(Kinds.PING, 0, 1, utf8("a"))).read().text()).isEqualTo("a");
                try (RawConnection extra = new RawConnection(server.framePort())) {
                    assertThat(extra.socket().getInputStream().read()).isEqualTo(-1);
                }
                assertThat(server.refusals().count(Reason.MAX_CONNECTIONS)).isEqualTo(1);
            }
            // The other connection is closed by its client, so it cannot time out as well, however
            // long this thread stalls on a loaded machine (a busy connection pinging from here did,
            // twice, with timeouts of 1 and 2 s). Closing by the client is not a refusal.
            assertThat(idle.readsCleanEof()).isTrue();
            await().atMost(Duration.ofSeconds(5)).until(() -> server.refusals().count(Reason.IDLE_TIMEOUT) == 1);
            assertThat(scrape(server))
                    .contains("pipeline_connections_refused_total{reason=\"max_connections\"} 1.0")
                    .contains("pipeline_connections_refused_total{reason=\"idle_timeout\"} 1.0")
                    .contains("pipeline_connections_refused_total{reason=\"tls_handshake\"} 0.0");
        }
    }

    static String scrape(FramepipeServer server) {
        return server.registry().scrape();
    }

    static double pauses(FramepipeServer server, String reason) {
        return server.registry().get("pipeline.backpressure.pauses").tag("reason", reason).functionCounter().count();
    }
}
