package dev.framepipe.server;

import static dev.framepipe.testing.Frames.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.config.Setting;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.testing.FramepipeProcesses;
import dev.framepipe.testing.RawConnection;
import dev.framepipe.testing.TestServers;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/**
 * While the kernels warm up, {@code /health/ready} answers 503 and the frame port accepts no
 * connection; both change only after the warm-up. The test tells "after" from "before" by the
 * server's own event, its log line that the warm-up ended (written before the frame port is
 * bound and the server turns ready), not by timing: every observation of an open frame port or a
 * 200 must come after that line, and at least one 503 must be seen before it.
 */
class WarmupTest {

    @Test
    void readyIs503AndTheFramePortClosedUntilTheWarmUpHasEnded() throws Exception {
        // 500 rounds take seconds on a cold JVM (the vector code interpreted) and milliseconds on a warm one;
        // should the warm-up end before the first look (a fast machine, a stalled test thread),
        // the test looks again at a server with four times as many rounds.
        int seen = 0;
        for (int rounds = 500; seen == 0 && rounds <= 32_000; rounds *= 4) {
            seen = startAndWatch(rounds);
        }
        assertThat(seen).as("503s seen while warming up").isPositive();
    }

    /** Starts a server and watches it start; returns how many 503s came before the warm-up ended. */
    private static int startAndWatch(int warmupRounds) throws Exception {
        int framePort = FramepipeProcesses.freePort();
        int httpPort = FramepipeProcesses.freePort();
        AtomicLong warmedUp = new AtomicLong(); // nanoTime of the log line; 0 before
        Logger log = Logger.getLogger(FramepipeServer.class.getName());
        Handler watch = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getMessage() != null && r.getMessage().startsWith("kernels warmed up")) {
                    warmedUp.compareAndSet(0, System.nanoTime());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(watch);
        CompletableFuture<FramepipeServer> starting = CompletableFuture.supplyAsync(() -> TestServers.start(Map.of(
                Setting.FRAME_PORT, "" + framePort, Setting.HTTP_PORT, "" + httpPort,
                Setting.WARMUP_ROUNDS, "" + warmupRounds)));
        FramepipeServer server = null;
        try {
            int notReadyDuringWarmup = 0;
            while (!starting.isDone()) {
                long before = System.nanoTime();
                Integer status = readyStatus(httpPort); // null until the HTTP port is open
                if (status != null) {
                    if (status == 200) {
                        assertThat(warmedUp.get()).as("ready said 200 before the warm-up ended").isNotZero();
                    } else {
                        assertThat(status).isEqualTo(503);
                        if (warmedUp.get() == 0 || warmedUp.get() > before) {
                            notReadyDuringWarmup++;
                        }
                    }
                }
                if (accepts(framePort)) {
                    assertThat(warmedUp.get()).as("the frame port accepted a connection before the warm-up ended")
                            .isNotZero();
                }
            }
            server = starting.get(60, TimeUnit.SECONDS);
            assertThat(readyStatus(httpPort)).isEqualTo(200);
            try (RawConnection c = new RawConnection(framePort)) {
                assertThat(c.send(frame(Kinds.PING, 0, 1, utf8("warm"))).read().text()).isEqualTo("warm");
            }
            return notReadyDuringWarmup;
        } finally {
            log.removeHandler(watch);
            if (server != null) {
                server.close();
            } else { // a failed check: stop the server whenever it has started
                starting.whenComplete((s, failed) -> {
                    try {
                        if (s != null) {
                            s.close();
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            }
        }
    }

    /** The status of GET /health/ready, or null while nothing listens on the port. */
    private static Integer readyStatus(int port) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            s.setSoTimeout(20_000);
            s.getOutputStream().write(("GET /health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))
                    .readLine();
            return Integer.parseInt(line.split(" ")[1]);
        } catch (ConnectException refused) {
            return null;
        }
    }

    private static boolean accepts(int port) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            return true;
        } catch (ConnectException refused) {
            return false;
        }
    }
}
