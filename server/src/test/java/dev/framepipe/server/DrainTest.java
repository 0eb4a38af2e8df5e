package dev.framepipe.server;

import static dev.framepipe.testing.Frames.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.framepipe.client.Response;
import dev.framepipe.config.Setting;
import dev.framepipe.metrics.RefusalMetrics.Reason;
import dev.framepipe.protocol.ErrorCode;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.protocol.Ops;
import dev.framepipe.testing.Contention;
import dev.framepipe.testing.RawConnection;
import dev.framepipe.testing.TestServers;
import io.netty.util.concurrent.SingleThreadEventExecutor;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The graceful stop (PROTOCOL.md, "Graceful stop"): every frame the server decoded is answered;
 * the first request it did not, including one still waiting in the socket's receive buffer, is
 * declined with SHUTTING_DOWN (which declines every later one); a connection is never closed on
 * requests sent before the drain without one or the other; connections close cleanly.
 */
class DrainTest {

    /** What one connection saw: answers by id, then perhaps a SHUTTING_DOWN, then the server's FIN. */
    record Drained(int normal, boolean declined) {
    }

    /**
     * Reads answers until the server closes and checks the drain contract: ids 0..k-1 answered
     * normally, then possibly one SHUTTING_DOWN for id k, then a clean FIN.
     */
    static Drained readDrainedConnection(RawConnection c) throws IOException {
        int normal = 0;
        boolean declined = false;
        while (true) {
            Response r;
            try {
                r = c.read();
            } catch (EOFException eof) {
                break;
            }
            assertThat(declined).as("nothing may follow SHUTTING_DOWN").isFalse();
            assertThat(r.id()).isEqualTo(normal);
            if (r.isError()) {
                assertThat(r.error()).isEqualTo(ErrorCode.SHUTTING_DOWN);
                declined = true;
            } else {
                normal++;
            }
        }
        return new Drained(normal, declined);
    }

    private static CompletableFuture<Boolean> drainInBackground(FramepipeServer server) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return server.drainAndStop();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** Frames the server decoded (kinds floats, text, ping), from its own counters. */
    private static double decoded(FramepipeServer server) {
        return server.registry().get("pipeline.frames.received").functionCounters().stream()
                .filter(c -> !"other".equals(c.getId().getTag("kind")))
                .mapToDouble(io.micrometer.core.instrument.FunctionCounter::count).sum();
    }

    /**
     * Deep pipelines, sent in full before the drain, on connections paused by their in-flight
     * limit (most requests wait in the receive buffers) or not: the server's own count of frames
     * it decoded equals the answers the clients got, and every connection whose requests were
     * not all answered got a SHUTTING_DOWN.
     */
    @ParameterizedTest(name = "max-in-flight {0}")
    @ValueSource(ints = {8, 1024})
    void everyFrameDecodedIsAnsweredAndEveryRequestSentBeforeTheDrainIsAnsweredOrDeclined(int maxInFlight)
            throws Exception {
        for (int round = 0; round < Contention.rounds(2); round++) {
            FramepipeServer server = TestServers.start(Map.of(Setting.MAX_IN_FLIGHT, "" + maxInFlight));
            int sent = 300;
            List<RawConnection> conns = new ArrayList<>();
            try {
                for (int k = 0; k < 3; k++) {
                    RawConnection c = new RawConnection(server.framePort());
                    conns.add(c);
                    byte[] batch = new byte[0];
                    for (int i = 0; i < sent; i++) {
                        batch = concat(batch, frame(Kinds.FLOATS, Ops.STATS, i, new byte[4_000]));
                    }
                    c.send(batch);
                }
                Contention.pause();
                CompletableFuture<Boolean> drained = drainInBackground(server);
                int answered = 0;
                for (RawConnection c : conns) {
                    Drained d = readDrainedConnection(c);
                    assertThat(d.normal() == sent || d.declined())
                            .as("%d of %d answered, and no SHUTTING_DOWN", d.normal(), sent).isTrue();
                    answered += d.normal();
                }
                assertThat(drained.get(30, TimeUnit.SECONDS)).as("drained within the timeout").isTrue();
                assertThat(decoded(server)).as("frames the server decoded = frames answered").isEqualTo(answered);
            } finally {
                for (RawConnection c : conns) {
                    c.close();
                }
                server.close();
            }
        }
    }

    /**
     * The case a load balancer meets: a client keeps 64 requests in flight on a busy connection,
     * so requests are always waiting in the server's receive buffer; a drain must decline the
     * first of them rather than close on them.
     */
    @Test
    void requestsWaitingInTheReceiveBufferAreDeclinedNotDropped() throws Exception {
        for (int round = 0; round < Contention.rounds(5); round++) {
            FramepipeServer server = TestServers.start();
            try (RawConnection c = new RawConnection(server.framePort())) {
                AtomicInteger written = new AtomicInteger();
                AtomicInteger answeredSoFar = new AtomicInteger();
                java.util.concurrent.atomic.AtomicBoolean readerDone = new java.util.concurrent.atomic.AtomicBoolean();
                Thread sender = Thread.ofPlatform().daemon().start(() -> {
                    try {
                        for (int id = 0; !readerDone.get(); id++) {
                            while (id - answeredSoFar.get() >= 64 && !readerDone.get()) {
                                Thread.onSpinWait();
                            }
                            c.send(frame(Kinds.PING, 0, id, utf8("ping " + id)));
                            written.incrementAndGet();
                        }
                    } catch (IOException e) {
                        // the server closed after declining: expected
                    }
                });
                CompletableFuture<Drained> reader = CompletableFuture.supplyAsync(() -> {
                    int normal = 0;
                    boolean declined = false;
                    try {
                        while (true) {
                            Response r = c.read();
                            assertThat(declined).isFalse();
                            assertThat(r.id()).isEqualTo(normal);
                            if (r.isError()) {
                                assertThat(r.error()).isEqualTo(ErrorCode.SHUTTING_DOWN);
                                declined = true;
                            } else {
                                normal++;
                                answeredSoFar.set(normal);
                            }
                        }
                    } catch (EOFException eof) {
                        return new Drained(normal, declined);
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    } finally {
                        readerDone.set(true); // the sender stops too
                    }
                });
                int warm = 2_000 + round * 97; // a different moment of the stream each round
                await().atMost(Duration.ofSeconds(20)).until(() -> answeredSoFar.get() > warm);
                int sentBeforeDrain = written.get();
                boolean clean = server.drainAndStop();
                Drained d = reader.get(30, TimeUnit.SECONDS);
                assertThat(d.declined() || d.normal() >= sentBeforeDrain)
                        .as("%d answered of %d sent before the drain, no SHUTTING_DOWN", d.normal(), sentBeforeDrain)
                        .isTrue();
                assertThat(clean).isTrue();
                sender.join(10_000);
                assertThat(sender.isAlive()).as("the sender stopped").isFalse();
            } finally {
                server.close();
            }
        }
    }

    /**
     * A STATS frame being folded as it arrives when the drain starts was not started: it is
     * declined by its id, the frame before it is answered, and the connection ends cleanly.
     */
    @Test
    void aLargeStatsFrameHalfFoldedWhenTheDrainStartsIsDeclinedByItsIdAfterTheFramesBeforeIt() throws Exception {
        byte[] stats = frame(Kinds.FLOATS, Ops.STATS, 2, floats(new float[1 << 20]));
        for (int round = 0; round < Contention.rounds(1); round++) {
            FramepipeServer server = TestServers.start();
            try (RawConnection c = new RawConnection(server.framePort())) {
                assertThat(c.send(frame(Kinds.PING, 0, 1, utf8("before"))).read().text()).isEqualTo("before");
                double before = server.registry().get("pipeline.received.bytes").functionCounter().count();
                c.send(java.util.Arrays.copyOf(stats, stats.length / 2));
                // the server has read the half that was sent: the frame is being folded
                await().atMost(Duration.ofSeconds(20)).until(() ->
                        server.registry().get("pipeline.received.bytes").functionCounter().count()
                                >= before + stats.length / 2);
                CompletableFuture<Boolean> drained = drainInBackground(server);
                Response r = c.read();
                assertThat(r.id()).isEqualTo(2);
                assertThat(r.error()).isEqualTo(ErrorCode.SHUTTING_DOWN);
                assertThat(c.readsCleanEof()).isTrue();
                c.close();
                assertThat(drained.get(30, TimeUnit.SECONDS)).isTrue();
            } finally {
                server.close();
            }
        }
    }

    @Test
    void anIdleConnectionIsClosedCleanlyAndTheClosedPortRefusesNewConnections() throws Exception {
        FramepipeServer server = TestServers.start();
        int port = server.framePort();
        try (RawConnection idle = new RawConnection(port)) {
            assertThat(idle.send(frame(Kinds.PING, 0, 0, utf8("hi"))).read().text()).isEqualTo("hi");
            assertThat(server.drainAndStop()).isTrue();
            assertThat(idle.readsCleanEof()).isTrue();
            assertThatThrownBy(() -> new RawConnection(port).close()).isInstanceOf(IOException.class);
        }
    }

    @Test
    void duringTheDrainDelayTheServerIsNotReadyButServesAndAcceptsThenItDrains() throws Exception {
        // 4 s: room for a late thread (contention mode), since the test must act within the delay
        FramepipeServer server = TestServers.start(Map.of(Setting.DRAIN_DELAY, "4s"));
        HttpClient http = HttpClient.newHttpClient();
        URI ready = URI.create("http://127.0.0.1:" + server.httpPort() + "/health/ready");
        try (RawConnection before = new RawConnection(server.framePort())) {
            assertThat(status(http, ready)).isEqualTo(200);
            CompletableFuture<Boolean> drained = drainInBackground(server);
            await().atMost(Duration.ofSeconds(5)).until(() -> status(http, ready) == 503);
            assertThat(server.phase()).isEqualTo(FramepipeServer.Phase.NOT_READY);
            // Within the delay: the old connection is served, a new one is accepted and served.
            assertThat(before.send(frame(Kinds.PING, 0, 0, utf8("old"))).read().text()).isEqualTo("old");
            try (RawConnection during = new RawConnection(server.framePort())) {
                assertThat(during.send(frame(Kinds.PING, 0, 0, utf8("new"))).read().text()).isEqualTo("new");
                assertThat(drained.get(30, TimeUnit.SECONDS)).isTrue();
                assertThat(during.readsCleanEof()).isTrue();
            }
            assertThat(before.readsCleanEof()).isTrue();
        } finally {
            server.close();
        }
    }

    @Test
    void aConnectionThatNeverLetsTheDrainFinishIsCutAtTheDrainTimeout() throws Exception {
        FramepipeServer server = TestServers.start(Map.of(Setting.DRAIN_TIMEOUT, "1s",
                Setting.WRITE_BUFFER_HIGH_WATER, "64KiB", Setting.WRITE_BUFFER_LOW_WATER, "32KiB"));
        try (RawConnection stuck = new RawConnection(server.framePort())) {
            stuck.socket().setReceiveBufferSize(4096);
            // Answers the client never reads: the server's FIN can never be flushed behind them.
            byte[] big = new byte[256 * 1024];
            for (int i = 0; i < 16; i++) {
                stuck.send(frame(Kinds.PING, 0, i, big));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> server.openConnections() == 1);
            long start = System.nanoTime();
            assertThat(server.drainAndStop()).as("the drain reports it had to cut").isFalse();
            assertThat(System.nanoTime() - start).as("cut at the timeout, not later")
                    .isLessThan(TimeUnit.SECONDS.toNanos(10));
        } finally {
            server.close();
        }
    }

    @Test
    void readinessTurnsUnavailableWhileDrainingAndLivenessStays() throws Exception {
        FramepipeServer server = TestServers.start();
        HttpClient http = HttpClient.newHttpClient();
        URI ready = URI.create("http://127.0.0.1:" + server.httpPort() + "/health/ready");
        URI live = URI.create("http://127.0.0.1:" + server.httpPort() + "/health/live");
        assertThat(status(http, ready)).isEqualTo(200);
        try (RawConnection slowReader = new RawConnection(server.framePort())) {
            slowReader.socket().setReceiveBufferSize(16 * 1024);
            int sent = 200;
            byte[] big = new byte[64 * 1024];
            Thread sender = Thread.ofPlatform().daemon().start(() -> {
                try {
                    for (int i = 0; i < sent; i++) {
                        slowReader.send(frame(Kinds.PING, 0, i, big));
                    }
                } catch (IOException e) {
                    // the server closed after declining: expected
                }
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> server.openConnections() == 1);
            CompletableFuture<Boolean> drained = drainInBackground(server);
            await().atMost(Duration.ofSeconds(10)).until(() -> status(http, ready) == 503);
            assertThat(status(http, live)).isEqualTo(200);
            Drained d = readDrainedConnection(slowReader);
            assertThat(d.normal() == sent || d.declined()).isTrue();
            assertThat(drained.get()).isTrue();
            sender.join(10_000);
        } finally {
            server.close();
        }
    }

    /**
     * A frame connection that reaches the server once the drain has begun is refused: closed
     * without an answer and counted as {@code pipeline_connections_refused_total{reason="not_ready"}}.
     * The port closes as the drain begins, so only a connection already accepted but not yet set up
     * meets this; the test makes that moment last by holding the only I/O thread, with which the
     * accepted connection is registered (and set up only when the thread runs again).
     */
    @Test
    void aFrameConnectionArrivingDuringTheDrainIsRefusedAsNotReadyAndCounted() throws Exception {
        FramepipeServer server = TestServers.start(Map.of(Setting.IO_THREADS, "1"));
        CountDownLatch release = new CountDownLatch(1);
        try (RawConnection before = new RawConnection(server.framePort())) {
            assertThat(before.send(frame(Kinds.PING, 0, 0, utf8("before"))).read().text()).isEqualTo("before");
            SingleThreadEventExecutor loop = (SingleThreadEventExecutor) server.lanes().get(0).eventLoop();
            CountDownLatch held = new CountDownLatch(1);
            loop.execute(() -> {
                held.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertThat(held.await(10, TimeUnit.SECONDS)).as("the I/O thread is held").isTrue();
            int queued = loop.pendingTasks();
            try (RawConnection late = new RawConnection(server.framePort())) {
                // Accepted: its registration waits in the held thread's queue.
                await().atMost(Duration.ofSeconds(10)).until(() -> loop.pendingTasks() > queued);
                late.send(frame(Kinds.PING, 0, 1, utf8("late")));
                CompletableFuture<Boolean> drained = drainInBackground(server);
                await().atMost(Duration.ofSeconds(10)).until(() -> server.phase() == FramepipeServer.Phase.DRAINING);
                assertThat(server.refusals().count(Reason.NOT_READY)).isZero();
                release.countDown();
                assertThatThrownBy(late::read).as("the late connection is closed without an answer")
                        .isInstanceOfAny(EOFException.class, SocketException.class);
                assertThat(drained.get(30, TimeUnit.SECONDS)).as("drained within the timeout").isTrue();
                assertThat(before.readsCleanEof()).isTrue();
            }
            assertThat(server.refusals().count(Reason.NOT_READY)).isEqualTo(1);
            assertThat(server.registry().scrape())
                    .contains("pipeline_connections_refused_total{reason=\"not_ready\"} 1.0");
            assertThat(server.refusals().count(Reason.MAX_CONNECTIONS)).isZero();
        } finally {
            release.countDown();
            server.close();
        }
    }

    static int status(HttpClient http, URI uri) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
