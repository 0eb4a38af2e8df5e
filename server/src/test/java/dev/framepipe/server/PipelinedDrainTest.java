package dev.framepipe.server;

import static dev.framepipe.testing.Frames.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.client.Response;
import dev.framepipe.config.Setting;
import dev.framepipe.protocol.ErrorCode;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.protocol.Ops;
import dev.framepipe.testing.Contention;
import dev.framepipe.testing.RawConnection;
import dev.framepipe.testing.TestPki;
import dev.framepipe.testing.TestServers;
import dev.framepipe.testing.TlsRawConnection;
import io.micrometer.core.instrument.FunctionCounter;
import io.netty.pkitesting.X509Bundle;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * PROTOCOL.md, "Graceful stop", seen from a client that pipelines deeply the way load-balanced
 * clients do: 64 requests in flight, the next sent as each answer arrives, so at any moment some
 * requests are in the server's receive buffer and some are on the wire. A drain must end every
 * one of them answered or declined: answers in order, then a SHUTTING_DOWN for the next id (it
 * declines everything after it), then a clean close (FIN; over TLS close_notify, then FIN). A
 * FIN that crossed requests on the wire would leave them with neither. Plain TCP and TLS (each
 * provider), a drain at a different moment of the stream each round.
 */
class PipelinedDrainTest {

    private static final int DEPTH = 64;
    /** Long, so that a drain that waited it out instead of declining shows in the time taken. */
    private static final Duration LINGER = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    /** One client connection, plain or TLS, as the test drives it. */
    private interface Client extends AutoCloseable {
        void send(byte[] bytes) throws IOException;

        /** The next answer; EOFException once the server's side has ended. */
        Response read() throws IOException;

        /** After the EOF: whether the server ended cleanly (FIN; over TLS close_notify then FIN). */
        boolean endedCleanly() throws IOException;

        @Override
        void close() throws IOException;
    }

    private static Client plain(int port) throws IOException {
        RawConnection c = new RawConnection(port);
        return new Client() {
            public void send(byte[] b) throws IOException { c.send(b); }
            public Response read() throws IOException { return c.read(); }
            public boolean endedCleanly() { return true; } // a reset would have thrown SocketException from read()
            public void close() throws IOException { c.close(); }
        };
    }

    private static Client tls(int port, SSLContext ssl) throws IOException {
        TlsRawConnection c = new TlsRawConnection(port, ssl);
        return new Client() {
            public void send(byte[] b) throws IOException { c.send(b); }
            public Response read() throws IOException { return c.read(); }
            public boolean endedCleanly() throws IOException {
                return c.readClose() == TlsRawConnection.Close.CLOSE_NOTIFY_THEN_FIN;
            }
            public void close() throws IOException { c.close(); }
        };
    }

    /** What the client saw: answers 0..normal-1, then whether the next id was declined. */
    record Seen(long normal, boolean declined, boolean clean) {
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"plain", "tls-jdk", "tls-openssl"})
    void aDrainUnderDeepPipeliningAnswersOrDeclinesEveryRequestAndClosesCleanly(String transport) throws Exception {
        Map<Setting, String> settings = new EnumMap<>(Setting.class);
        settings.put(Setting.CLOSE_LINGER, LINGER.toSeconds() + "s");
        settings.put(Setting.DRAIN_TIMEOUT, "60s");
        SSLContext ssl = null;
        if (!transport.equals("plain")) {
            X509Bundle ca = TestPki.ca("drain test CA");
            TestPki.Pem pem = TestPki.write(TestPki.server(ca), dir, "server");
            settings.put(Setting.TLS_CERT_CHAIN, pem.chain().toString());
            settings.put(Setting.TLS_KEY, pem.key().toString());
            settings.put(Setting.TLS_PROVIDER, transport.substring(4));
            ssl = SSLContext.getInstance("TLS");
            ssl.init(null, ca.toTrustManagerFactory().getTrustManagers(), null);
        }
        int rounds = Contention.rounds(transport.equals("plain") ? 8 : 3);
        for (int round = 0; round < rounds; round++) {
            FramepipeServer server = TestServers.start(settings);
            try (Client c = ssl == null ? plain(server.framePort()) : tls(server.framePort(), ssl)) {
                AtomicLong answered = new AtomicLong();
                AtomicBoolean readerDone = new AtomicBoolean();
                Thread sender = Thread.ofPlatform().daemon().start(() -> {
                    try {
                        for (long id = 0; !readerDone.get(); id++) {
                            while (id - answered.get() >= DEPTH && !readerDone.get()) {
                                Thread.onSpinWait();
                            }
                            c.send(id % 4 == 0
                                    ? frame(Kinds.PING, Ops.PING, id, utf8("ping " + id))
                                    : frame(Kinds.FLOATS, Ops.STATS, id, floats(id, 1, 2)));
                            Contention.pause();
                        }
                    } catch (IOException | IllegalStateException e) {
                        // the server closed after declining: expected
                    }
                });
                CompletableFuture<Seen> reader = CompletableFuture.supplyAsync(() -> {
                    long normal = 0;
                    boolean declined = false;
                    try {
                        while (true) {
                            Response r;
                            try {
                                r = c.read();
                            } catch (EOFException end) {
                                boolean clean = c.endedCleanly();
                                c.close(); // as a client does at the end: the server need not linger
                                return new Seen(normal, declined, clean);
                            }
                            assertThat(declined).as("nothing may follow SHUTTING_DOWN").isFalse();
                            assertThat(r.id()).as("answers in order, none lost or repeated").isEqualTo(normal);
                            if (r.isError()) {
                                assertThat(r.error()).isEqualTo(ErrorCode.SHUTTING_DOWN);
                                declined = true;
                            } else {
                                answered.set(++normal);
                            }
                        }
                    } catch (SocketException reset) {
                        throw new AssertionError("the connection was reset after " + normal + " answers", reset);
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    } finally {
                        readerDone.set(true); // the sender stops too
                    }
                });
                long warm = 300 + round * 211L; // a different moment of the stream each round
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (answered.get() < warm && !reader.isDone() && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
                assertThat(answered.get()).as("answers before the drain").isGreaterThanOrEqualTo(warm);

                long start = System.nanoTime();
                boolean clean = server.drainAndStop();
                Duration took = Duration.ofNanos(System.nanoTime() - start);
                Seen seen = reader.get(30, TimeUnit.SECONDS);
                sender.join(10_000);

                assertThat(seen.declined())
                        .as("round %d: %d answered, then a FIN without a SHUTTING_DOWN while requests were in flight",
                                round, seen.normal())
                        .isTrue();
                assertThat(seen.clean()).as("a clean close after the SHUTTING_DOWN").isTrue();
                assertThat(clean).as("drained within drain-timeout").isTrue();
                assertThat(took).as("the decline ended the drain, not close-linger").isLessThan(LINGER.dividedBy(2));
                assertThat(decoded(server)).as("frames the server ran = answers the client got").isEqualTo(seen.normal());
                assertThat(sender.isAlive()).as("the sender stopped").isFalse();
            } finally {
                server.close();
            }
        }
    }

    /**
     * The wait that makes the above possible, on its own: an idle connection is not sent its FIN
     * at once when the drain begins; a request that arrives during the wait is declined.
     */
    @Test
    void aRequestArrivingAfterTheDrainBeganOnAnIdleConnectionIsDeclinedNotDropped() throws Exception {
        FramepipeServer server = TestServers.start(Map.of(Setting.CLOSE_LINGER, LINGER.toSeconds() + "s"));
        try (RawConnection c = new RawConnection(server.framePort())) {
            assertThat(c.send(frame(Kinds.PING, Ops.PING, 0, utf8("before"))).read().text()).isEqualTo("before");
            CompletableFuture<Boolean> drained = CompletableFuture.supplyAsync(() -> {
                try {
                    return server.drainAndStop();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            long waited = System.nanoTime();
            awaitPortClosed(server); // the drain began: each connection's startDrain is queued after it
            Thread.sleep(300); // and has run, and found nothing in the socket
            Response r = c.send(frame(Kinds.PING, Ops.PING, 1, utf8("during"))).read();
            assertThat(r.id()).isEqualTo(1);
            assertThat(r.error()).isEqualTo(ErrorCode.SHUTTING_DOWN);
            assertThat(c.readsCleanEof()).as("then FIN, not a reset").isTrue();
            c.close();
            assertThat(drained.get(30, TimeUnit.SECONDS)).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - waited)).isLessThan(LINGER.dividedBy(2));
            assertThat(decoded(server)).as("the declined request was not run").isEqualTo(1);
        } finally {
            server.close();
        }
    }

    /** A client that half-closes during the wait sends nothing more: its FIN comes at once. */
    @Test
    void aClientThatHalfClosesDuringTheWaitGetsItsFinAtOnce() throws Exception {
        FramepipeServer server = TestServers.start(Map.of(Setting.CLOSE_LINGER, LINGER.toSeconds() + "s"));
        try (RawConnection c = new RawConnection(server.framePort())) {
            assertThat(c.send(frame(Kinds.PING, Ops.PING, 0, utf8("hi"))).read().text()).isEqualTo("hi");
            CompletableFuture<Boolean> drained = CompletableFuture.supplyAsync(() -> {
                try {
                    return server.drainAndStop();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            awaitPortClosed(server);
            Thread.sleep(300);
            long start = System.nanoTime();
            c.shutdownOutput();
            assertThat(c.readsCleanEof()).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(LINGER.dividedBy(2));
            assertThat(drained.get(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            server.close();
        }
    }

    private static void awaitPortClosed(FramepipeServer server) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (RawConnection probe = new RawConnection(server.framePort())) {
                Thread.sleep(5); // accepted: the drain has not closed the port yet
            } catch (IOException refused) {
                return;
            }
        }
        throw new AssertionError("the frame port still accepts 10 s into the drain");
    }

    /** Frames the server decoded and ran (kinds floats, text, ping), from its own counters. */
    private static double decoded(FramepipeServer server) {
        return server.registry().get("pipeline.frames.received").functionCounters().stream()
                .filter(c -> !"other".equals(c.getId().getTag("kind")))
                .mapToDouble(FunctionCounter::count).sum();
    }
}
