package dev.framepipe.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.framepipe.config.Setting;
import dev.framepipe.protocol.ErrorCode;
import dev.framepipe.server.FramepipeServer;
import dev.framepipe.testing.TestServers;
import io.micrometer.core.instrument.FunctionCounter;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The client carries on across connections the server retires, without losing or repeating a request. */
class ReconnectingClientTest {

    @Test
    void pipelinedRequestsSurviveMaxConnectionAgeExactlyOnceAndInOrder() throws Exception {
        FramepipeServer server = TestServers.start(Map.of(Setting.MAX_CONNECTION_AGE, "250ms"));
        Queue<Integer> completionOrder = new ConcurrentLinkedQueue<>();
        List<CompletableFuture<Response>> futures = new ArrayList<>();
        Semaphore window = new Semaphore(512);
        try (ReconnectingClient client = ReconnectingClient.connect("127.0.0.1", server.framePort())) {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            int i = 0;
            // Busy until the server has retired several connections under load.
            while ((client.connections() < 5 || i < 5_000) && System.nanoTime() < deadline) {
                window.acquire();
                int n = i++;
                CompletableFuture<Response> f = switch (n % 4) {
                    case 0 -> client.stats(n, 1f);
                    case 1 -> client.upper("request " + n);
                    case 2 -> client.count("a b " + n);
                    default -> client.ping(Integer.toString(n).getBytes(StandardCharsets.UTF_8));
                };
                f.whenComplete((r, e) -> {
                    completionOrder.add(n);
                    window.release();
                });
                futures.add(f);
            }
            CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);

            for (int n = 0; n < futures.size(); n++) {
                Response r = futures.get(n).join();
                assertThat(r.isError()).as("request %d: %s", n, r).isFalse();
                switch (n % 4) {
                    case 0 -> assertThat(r.stats().sum()).isEqualTo(n + 1.0);
                    case 1 -> assertThat(r.text()).isEqualTo("REQUEST " + n);
                    case 2 -> assertThat(r.counts().words()).isEqualTo(3);
                    default -> assertThat(r.text()).isEqualTo(Integer.toString(n));
                }
            }
            assertThat(List.copyOf(completionOrder)).as("futures complete in request order").isSorted().hasSize(futures.size());
            assertThat(client.connections()).as("the server retired connections").isGreaterThanOrEqualTo(5);
            assertThat(client.resent()).as("some requests were declined and sent again").isPositive();
            assertThat(client.declined()).as("every SHUTTING_DOWN the server wrote, each followed by a resend")
                    .isEqualTo(declinesWritten(server)).isLessThanOrEqualTo(client.resent());
            assertThat(client.inFlight()).isZero();
            assertThat(okAnswers(server)).as("the server ran every request exactly once").isEqualTo(futures.size());
        } finally {
            server.close();
        }
    }

    @Test
    void requestsWaitingWhenTheServerIsGoneFailAfterBoundedAttempts() throws Exception {
        FramepipeServer server = TestServers.start();
        var policy = new ReconnectingClient.RetryPolicy(3, 3, Duration.ofMillis(1), Duration.ofMillis(20));
        try (ReconnectingClient client = ReconnectingClient.connect("127.0.0.1", server.framePort(),
                ClientOptions.defaults(), policy)) {
            assertThat(client.ping(new byte[] {1}).get(10, TimeUnit.SECONDS).payload()).containsExactly(1);
            server.drainAndStop();
            CompletableFuture<Response> after = client.ping(new byte[] {2});
            await().atMost(Duration.ofSeconds(20)).until(after::isDone);
            assertThat(after).isCompletedExceptionally();
            assertThat(after.exceptionNow()).isInstanceOf(ConnectionClosedException.class);
            assertThat(client.inFlight()).isZero();
        } finally {
            server.close();
        }
    }

    @Test
    void aResetConnectionFailsItsUnansweredRequestsInsteadOfSendingThemAgain() throws Exception {
        try (ResettingEchoServer fake = new ResettingEchoServer();
                ReconnectingClient client = ReconnectingClient.connect("127.0.0.1", fake.port())) {
            CompletableFuture<Response> lost = client.ping("first".getBytes(StandardCharsets.UTF_8));
            await().atMost(Duration.ofSeconds(10)).until(lost::isDone);
            assertThat(lost.exceptionNow()).isInstanceOf(ConnectionClosedException.class)
                    .cause().as("an abrupt end").isNotNull();

            Response next = client.ping("second".getBytes(StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS);
            assertThat(new String(next.payload(), StandardCharsets.UTF_8)).isEqualTo("second");
            assertThat(client.connections()).isEqualTo(2);
            assertThat(fake.received).as("the request in doubt was not sent again").containsExactly("first", "second");
        }
    }

    @Test
    void aRequestDeclinedOnEveryAttemptCompletesWithTheShuttingDownAnswer() throws Exception {
        // A server whose connections all age at once: every request arrives after the decline.
        try (ResettingEchoServer fake = new ResettingEchoServer(ResettingEchoServer.Mode.DECLINE_ALL);
                ReconnectingClient client = ReconnectingClient.connect("127.0.0.1", fake.port(), ClientOptions.defaults(),
                        new ReconnectingClient.RetryPolicy(3, 5, Duration.ofMillis(1), Duration.ofMillis(5)))) {
            Response r = client.ping(new byte[] {9}).get(10, TimeUnit.SECONDS);
            assertThat(r.error()).isEqualTo(ErrorCode.SHUTTING_DOWN);
            assertThat(fake.received).hasSize(3);
            assertThat(client.resent()).isEqualTo(2);
            assertThat(client.declined()).as("every attempt was declined").isEqualTo(3);
        }
    }

    @Test
    void aCleanCloseWithRequestsUnansweredSendsThemAgainOnceEachInOrder() throws Exception {
        // The first connection answers one of three requests, then closes cleanly (a bare FIN,
        // no SHUTTING_DOWN answer): the other two were not run, so they go again, exactly once.
        try (FakeServer fake = new FakeServer(n -> n > 1);
                ReconnectingClient client = ReconnectingClient.connect("127.0.0.1", fake.port())) {
            Queue<String> completionOrder = new ConcurrentLinkedQueue<>();
            List<CompletableFuture<Response>> futures = new ArrayList<>();
            for (String p : List.of("a", "b", "c")) {
                CompletableFuture<Response> f = client.ping(p.getBytes(StandardCharsets.UTF_8));
                f.whenComplete((r, e) -> completionOrder.add(p));
                futures.add(f);
            }
            FakeServer.Conn first = fake.next();
            await().atMost(Duration.ofSeconds(10)).until(() -> first.received.size() == 3);
            first.answer(1);
            assertThat(text(futures.get(0))).isEqualTo("a");
            first.fin();

            assertThat(text(futures.get(1))).isEqualTo("b");
            assertThat(text(futures.get(2))).isEqualTo("c");
            FakeServer.Conn second = fake.next();
            assertThat(first.texts()).containsExactly("a", "b", "c");
            assertThat(second.texts()).as("sent again, once each, in order").containsExactly("b", "c");
            assertThat(List.copyOf(completionOrder)).containsExactly("a", "b", "c");
            assertThat(client.resent()).isEqualTo(2);
            assertThat(client.declined()).as("a bare FIN declines nothing").isZero();
            assertThat(client.connections()).isEqualTo(2);
            assertThat(client.inFlight()).isZero();
            await("the old connection is closed by the client").atMost(Duration.ofSeconds(10))
                    .until(first::ended);
        }
    }

    @Test
    void aRequestWhoseDeadlinePassedIsNeverSentAgainAndLaterAnswersStillMatch() throws Exception {
        try (FakeServer fake = new FakeServer(n -> n > 1);
                ReconnectingClient client = ReconnectingClient.connect("127.0.0.1", fake.port())) {
            CompletableFuture<Response> expires = client.send(
                    Request.ping("late".getBytes(StandardCharsets.UTF_8)).withTimeout(Duration.ofMillis(200)));
            CompletableFuture<Response> waits = client.ping("waits".getBytes(StandardCharsets.UTF_8));
            FakeServer.Conn first = fake.next();
            await().atMost(Duration.ofSeconds(10)).until(expires::isDone);
            assertThat(expires.exceptionNow()).isInstanceOf(RequestTimeoutException.class);
            assertThat(((RequestTimeoutException) expires.exceptionNow()).mayHaveRun()).isTrue();
            assertThat(client.inFlight()).as("still owed by the server").isEqualTo(2);

            first.fin(); // neither was run
            assertThat(text(waits)).isEqualTo("waits");
            assertThat(fake.next().texts()).as("the expired request is not sent again").containsExactly("waits");
            assertThat(client.resent()).isEqualTo(1);
            await().atMost(Duration.ofSeconds(10)).until(() -> client.inFlight() == 0);
        }
    }

    @Test
    void backPressureBoundsRequestsMadeAndNotSettled() throws Exception {
        ClientOptions options = ClientOptions.builder().maxInFlight(3).build();
        try (FakeServer fake = new FakeServer(n -> false);
                ReconnectingClient client = ReconnectingClient.connect("127.0.0.1", fake.port(), options)) {
            List<CompletableFuture<Response>> futures = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                futures.add(client.trySend(Request.ping(("r" + i).getBytes(StandardCharsets.UTF_8))));
            }
            assertThat(futures).doesNotContainNull();
            assertThat(client.trySend(Request.ping(new byte[1]))).isNull();
            assertThat(client.isReady()).isFalse();
            CompletableFuture<Void> ready = client.whenReady();
            CompletableFuture<Response> tooLate = client.send(
                    Request.ping("too late".getBytes(StandardCharsets.UTF_8)).withTimeout(Duration.ofMillis(300)));
            await().atMost(Duration.ofSeconds(10)).until(tooLate::isDone);
            assertThat(tooLate.exceptionNow()).isInstanceOf(RequestTimeoutException.class);
            assertThat(((RequestTimeoutException) tooLate.exceptionNow()).mayHaveRun()).isFalse();

            FakeServer.Conn conn = fake.next();
            conn.answer(1);
            assertThat(ready).succeedsWithin(Duration.ofSeconds(10));
            futures.add(client.send(Request.ping("r3".getBytes(StandardCharsets.UTF_8))));
            conn.answer(3);
            for (int i = 0; i < 4; i++) {
                assertThat(text(futures.get(i))).isEqualTo("r" + i);
            }
            assertThat(conn.texts()).containsExactly("r0", "r1", "r2", "r3");
        }
    }

    private static String text(CompletableFuture<Response> f) throws Exception {
        return new String(f.get(10, TimeUnit.SECONDS).payload(), StandardCharsets.UTF_8);
    }

    static long declinesWritten(FramepipeServer server) {
        return (long) server.registry().find("pipeline.errors").tag("code", "shutting_down").functionCounters().stream()
                .mapToDouble(FunctionCounter::count).sum();
    }

    static long okAnswers(FramepipeServer server) {
        return (long) server.registry().find("pipeline.frames.completed").tag("outcome", "ok").functionCounters().stream()
                .mapToDouble(FunctionCounter::count).sum();
    }

    /**
     * A stand-in server for endings the real one never chooses: RESET_FIRST resets the first
     * connection after reading one request and echoes PINGs on later ones; DECLINE_ALL answers
     * every first request SHUTTING_DOWN and closes cleanly.
     */
    static final class ResettingEchoServer implements AutoCloseable {
        enum Mode { RESET_FIRST, DECLINE_ALL }

        final Queue<String> received = new ConcurrentLinkedQueue<>();
        private final ServerSocket listener;
        private final Thread acceptor;
        private final AtomicInteger accepted = new AtomicInteger();

        ResettingEchoServer() throws IOException {
            this(Mode.RESET_FIRST);
        }

        ResettingEchoServer(Mode mode) throws IOException {
            listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            acceptor = Thread.ofPlatform().daemon().start(() -> {
                while (!listener.isClosed()) {
                    try {
                        Socket s = listener.accept();
                        int n = accepted.incrementAndGet();
                        Thread.ofPlatform().daemon().start(() -> serve(s, mode, n));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        int port() {
            return listener.getLocalPort();
        }

        private void serve(Socket s, Mode mode, int connection) {
            try (s) {
                DataInputStream in = new DataInputStream(s.getInputStream());
                OutputStream out = s.getOutputStream();
                while (true) {
                    byte[] head = new byte[16];
                    in.readFully(head);
                    ByteBuffer h = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
                    byte[] payload = new byte[h.getInt(0) - 12];
                    in.readFully(payload);
                    received.add(new String(payload, StandardCharsets.UTF_8));
                    if (mode == Mode.RESET_FIRST && connection == 1) {
                        s.setSoLinger(true, 0); // close() now sends a reset
                        return;
                    }
                    if (mode == Mode.DECLINE_ALL) {
                        byte[] msg = "declined".getBytes(StandardCharsets.UTF_8);
                        ByteBuffer e = ByteBuffer.allocate(16 + 2 + msg.length).order(ByteOrder.LITTLE_ENDIAN);
                        e.putInt(12 + 2 + msg.length).put((byte) 1).put((byte) 0xFF).putShort(h.getShort(6))
                                .putLong(h.getLong(8)).putShort((short) ErrorCode.SHUTTING_DOWN.code()).put(msg);
                        out.write(e.array());
                        out.flush();
                        s.shutdownOutput();
                        while (in.read() >= 0) {
                            // discard until the client closes, as the real server does
                        }
                        return;
                    }
                    head[5] = (byte) (head[5] | 0x80);
                    out.write(head);
                    out.write(payload);
                    out.flush();
                }
            } catch (IOException e) {
                // client gone
            }
        }

        @Override
        public void close() throws Exception {
            listener.close();
            acceptor.join(5_000);
        }
    }
}
