package dev.framepipe.server;

import static dev.framepipe.testing.Frames.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.framepipe.client.Response;
import dev.framepipe.config.Setting;
import dev.framepipe.logging.LogFields;
import dev.framepipe.pipeline.Lane;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.protocol.Ops;
import dev.framepipe.testing.FramepipeProcesses;
import dev.framepipe.testing.RawConnection;
import dev.framepipe.testing.TestServers;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ResourceBundle;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

/**
 * Start-up as an operator sees it: both ports bound before the kernel warm-up (a port in use
 * fails at once, naming it), nothing accepted and /health/ready 503 until the warm-up ends, its
 * progress logged, and every I/O thread's records naming its lane.
 */
class StartupTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    void aFramePortInUseFailsBeforeTheWarmUpNamingAddressAndPort() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            FramepipeServer server = new FramepipeServer(TestServers.config(Map.of(
                    Setting.FRAME_PORT, "" + taken.getLocalPort(),
                    Setting.WARMUP_ROUNDS, "10000000"))); // would take its whole 30 s budget
            long start = System.nanoTime();
            try {
                assertThatThrownBy(server::start)
                        .hasMessageContaining("127.0.0.1:" + taken.getLocalPort())
                        .hasMessageContaining("frame port")
                        .hasMessageContaining("in use")
                        .hasMessageNotContaining("error(-98)");
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
            } finally {
                server.close();
            }
        }
    }

    @Test
    void anHttpPortInUseFailsBeforeTheWarmUpNamingIt() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            FramepipeServer server = new FramepipeServer(TestServers.config(Map.of(
                    Setting.HTTP_PORT, "" + taken.getLocalPort(),
                    Setting.WARMUP_ROUNDS, "10000000")));
            long start = System.nanoTime();
            try {
                assertThatThrownBy(server::start)
                        .hasMessageContaining("127.0.0.1:" + taken.getLocalPort())
                        .hasMessageContaining("HTTP port");
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
            } finally {
                server.close();
            }
        }
    }

    @Test
    void aFrameSentDuringTheWarmUpWaitsInTheBacklogAndIsAnsweredOnceReady() throws Exception {
        int framePort = FramepipeProcesses.freePort();
        int httpPort = FramepipeProcesses.freePort();
        // enough rounds that the warm-up lasts seconds even with kernels warm from earlier tests
        FramepipeServer server = new FramepipeServer(TestServers.config(Map.of(
                Setting.FRAME_PORT, "" + framePort, Setting.HTTP_PORT, "" + httpPort,
                Setting.WARMUP_ROUNDS, "15000")));
        StartupWarmup.stopWhenCompiled = false; // all 15000 rounds, though earlier tests compiled the kernels
        CompletableFuture<FramepipeServer> started = CompletableFuture.supplyAsync(unchecked(server::start));
        try {
            URI ready = URI.create("http://127.0.0.1:" + httpPort + "/health/ready");
            // the HTTP port answers during the warm-up, with 503
            int status = await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> HTTP.send(
                    HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.discarding()).statusCode(),
                    s -> s > 0);
            assertThat(status).isEqualTo(503);
            assertThat(server.phase()).isEqualTo(FramepipeServer.Phase.STARTING);
            // the frame port is bound: the connection completes in the kernel's backlog...
            try (RawConnection c = new RawConnection(framePort)) {
                c.socket().setSoTimeout(60_000); // the warm-up may take its whole 30 s budget here
                c.send(frame(Kinds.PING, Ops.PING, 7, utf8("early")));
                // ...and is served only by a ready server (phase turns READY before accepting)
                Response r = c.read();
                assertThat(server.phase()).isEqualTo(FramepipeServer.Phase.READY);
                assertThat(r.id()).isEqualTo(7);
                assertThat(r.text()).isEqualTo("early");
            }
            assertThat(started.get(60, TimeUnit.SECONDS).framePort()).isEqualTo(framePort);
            assertThat(HTTP.send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.discarding())
                    .statusCode()).isEqualTo(200);
        } finally {
            started.get(60, TimeUnit.SECONDS);
            StartupWarmup.stopWhenCompiled = true;
            server.close();
        }
    }

    @Test
    void eachIoThreadNamesItsLaneInItsLogRecords() throws Exception {
        FramepipeServer server = TestServers.start();
        try {
            List<Lane> lanes = server.lanes();
            assertThat(lanes).hasSize(2);
            for (Lane lane : lanes) {
                String field = lane.eventLoop().submit(() -> MDC.get(LogFields.LANE)).get(10, TimeUnit.SECONDS);
                assertThat(field).isEqualTo(Integer.toString(lane.index()));
            }
        } finally {
            server.close();
        }
    }

    @Test
    void theWarmUpLogsItsProgressAndItsEnd() {
        StartupWarmup.stopWhenCompiled = false;
        try {
            RecordingLogger log = new RecordingLogger();
            assertThat(StartupWarmup.run(40, Duration.ofSeconds(30), log)).isEqualTo(40);
            assertThat(log.messages.getFirst()).contains("warming up the kernels").contains("at most 40 rounds")
                    .contains("503");
            assertThat(log.messages.getLast()).startsWith("kernels warmed up: 40 rounds in ");
        } finally {
            StartupWarmup.stopWhenCompiled = true;
        }

        RecordingLogger budget = new RecordingLogger();
        assertThat(StartupWarmup.run(1_000_000, Duration.ZERO, budget)).isZero();
        assertThat(budget.messages.getLast()).contains("stopped at the time budget");

        RecordingLogger off = new RecordingLogger();
        assertThat(StartupWarmup.run(0, Duration.ofSeconds(30), off)).isZero();
        assertThat(off.messages).containsExactly("kernel warm-up off (warmup-rounds 0)");
    }

    @Test
    void theWarmUpEndsOnceTheJitHasCompiledEveryKernel() {
        RecordingLogger log = new RecordingLogger();
        int done = StartupWarmup.run(1_000_000, Duration.ofSeconds(120), log);
        assertThat(log.messages.getLast()).as(log.messages.toString())
                .contains("every kernel compiled by the JIT");
        assertThat(done).isPositive().isLessThan(1_000_000);
        // compiled, the kernels stay compiled: the next warm-up ends after its first chunk
        RecordingLogger again = new RecordingLogger();
        assertThat(StartupWarmup.run(1_000_000, Duration.ofSeconds(120), again)).isEqualTo(StartupWarmup.FIRST_CHUNK);
    }

    @Test
    void aSlowWarmUpReportsAboutOnceASecond() {
        StartupWarmup.stopWhenCompiled = false;
        try {
            RecordingLogger log = new RecordingLogger();
            long start = System.nanoTime();
            // stops at its 3 s budget: a million rounds take longer
            int done = StartupWarmup.run(1_000_000, Duration.ofMillis(3_000), log);
            double seconds = (System.nanoTime() - start) / 1e9;
            long progress = log.messages.stream().filter(m -> m.matches("warming up the kernels: \\d+ rounds, .*")).count();
            assertThat(done).isPositive();
            // one line per second that passed, give or take the chunk that ran when the second ended
            assertThat(progress).as("%d progress lines in %.1f s", progress, seconds).isBetween(1L, (long) Math.ceil(seconds));
        } finally {
            StartupWarmup.stopWhenCompiled = true;
        }
    }

    private static <T> Supplier<T> unchecked(java.util.concurrent.Callable<T> c) {
        return () -> {
            try {
                return c.call();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
    }

    /** A System.Logger that keeps the messages. */
    private static final class RecordingLogger implements System.Logger {
        final List<String> messages = new ArrayList<>();

        @Override
        public String getName() {
            return "recording";
        }

        @Override
        public boolean isLoggable(Level level) {
            return true;
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
            messages.add(msg);
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String format, Object... params) {
            messages.add(format);
        }
    }
}
