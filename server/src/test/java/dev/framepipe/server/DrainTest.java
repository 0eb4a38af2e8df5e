package dev.framepipe.server;

import static dev.framepipe.testing.Frames.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.framepipe.client.Response;
import dev.framepipe.protocol.ErrorCode;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.testing.RawConnection;
import dev.framepipe.testing.TestServers;
import java.io.EOFException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The graceful stop: every frame already read is answered, the rest declined, connections close cleanly. */
class DrainTest {

    /**
     * Reads answers until the server closes and checks the drain contract: ids 0..k-1 answered
     * normally, then possibly one SHUTTING_DOWN for id k, then a clean FIN; if fewer than
     * {@code sent} answers came, the last one is that SHUTTING_DOWN.
     *
     * @return the number of frames answered normally
     */
    static int readDrainedConnection(RawConnection c, int sent) throws IOException {
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
        assertThat(normal == sent || declined).as("%d of %d answered, and no SHUTTING_DOWN", normal, sent).isTrue();
        return normal;
    }

    @Test
    void framesInFlightAreAnsweredAndTheRestDeclinedWhenTheServerDrains() throws Exception {
        FramepipeServer server = TestServers.start();
        int sent = 300;
        List<RawConnection> conns = new ArrayList<>();
        try {
            for (int k = 0; k < 3; k++) {
                RawConnection c = new RawConnection(server.framePort());
                conns.add(c);
                byte[] batch = new byte[0];
                for (int i = 0; i < sent; i++) {
                    batch = concat(batch, frame(Kinds.FLOATS, Kinds.OP_STATS, i, new byte[40_000]));
                }
                c.send(batch);
            }
            CompletableFuture<Boolean> drained = CompletableFuture.supplyAsync(() -> {
                try {
                    return server.drainAndStop();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            for (RawConnection c : conns) {
                readDrainedConnection(c, sent);
            }
            assertThat(drained.get()).as("drained within the timeout").isTrue();
        } finally {
            for (RawConnection c : conns) {
                c.close();
            }
            server.close();
        }
    }

    @Test
    void anIdleConnectionIsClosedCleanlyAndNewConnectionsAreRefusedDuringTheDrain() throws Exception {
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
            CompletableFuture<Boolean> drained = CompletableFuture.supplyAsync(() -> {
                try {
                    return server.drainAndStop();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> status(http, ready) == 503);
            assertThat(status(http, live)).isEqualTo(200);
            readDrainedConnection(slowReader, sent);
            assertThat(drained.get()).isTrue();
            sender.join(10_000);
        } finally {
            server.close();
        }
    }

    static int status(HttpClient http, URI uri) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
