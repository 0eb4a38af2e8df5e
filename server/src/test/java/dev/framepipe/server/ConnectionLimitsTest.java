package dev.framepipe.server;

import static dev.framepipe.testing.Frames.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.framepipe.config.Setting;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.testing.RawConnection;
import dev.framepipe.testing.TestServers;
import dev.framepipe.metrics.RefusalMetrics.Reason;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ConnectionLimitsTest {

    @Test
    void aConnectionBeyondMaxConnectionsIsClosedAtOnceAndTheOthersKeepWorking() throws Exception {
        try (FramepipeServer server = TestServers.start(Map.of(Setting.MAX_CONNECTIONS, "2"));
             RawConnection a = new RawConnection(server.framePort());
             RawConnection b = new RawConnection(server.framePort())) {
            assertThat(a.send(frame(Kinds.PING, 0, 1, utf8("a"))).read().text()).isEqualTo("a");
            assertThat(b.send(frame(Kinds.PING, 0, 1, utf8("b"))).read().text()).isEqualTo("b");
            try (RawConnection third = new RawConnection(server.framePort())) {
                assertThat(third.socket().getInputStream().read()).as("closed without an answer").isEqualTo(-1);
            }
            assertThat(a.send(frame(Kinds.PING, 0, 2, utf8("still"))).read().text()).isEqualTo("still");
            a.close();
            await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == 1);
            try (RawConnection again = new RawConnection(server.framePort())) {
                assertThat(again.send(frame(Kinds.PING, 0, 3, utf8("room"))).read().text()).isEqualTo("room");
            }
        }
    }

    /**
     * The idle timeout counts from the last complete frame, per connection, and never fires early.
     * Only lower bounds on time are asserted (a busy machine makes every wait longer, never
     * shorter): the idle connection's close comes at least a timeout after its last frame, which
     * itself came most of a timeout after the connect, so a clock counted from the connect (or
     * not reset by frames) closes it too early. The busy connection sends a frame every fifth of a
     * timeout; it stays open, or, if this thread stalled for a whole timeout between two of its
     * frames (seen on a loaded machine), its close came at least a timeout after its last frame.
     */
    @Test
    void anIdleConnectionIsClosedCleanlyATimeoutAfterItsLastFrameAndNeverEarlier() throws Exception {
        long timeout = TimeUnit.SECONDS.toNanos(1);
        try (FramepipeServer server = TestServers.start(Map.of(Setting.IDLE_TIMEOUT, "1s"));
             RawConnection busy = new RawConnection(server.framePort());
             RawConnection idle = new RawConnection(server.framePort())) {
            TimeUnit.NANOSECONDS.sleep(timeout * 6 / 10);
            long lastFrame = System.nanoTime(); // before the send: the server decodes the frame later still
            assertThat(idle.send(frame(Kinds.PING, 0, 1, utf8("once"))).read().text()).isEqualTo("once");
            byte[] trickle = frame(Kinds.PING, 0, 2, utf8("never completed"));
            idle.send(Arrays.copyOf(trickle, 10)); // bytes, but no complete frame
            CompletableFuture<Long> idleClosed = CompletableFuture.supplyAsync(() -> {
                try {
                    return idle.readsCleanEof() ? System.nanoTime() : -1L;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });

            long busyLast = 0;
            long busyClosedAt = 0;
            long until = System.nanoTime() + 2 * timeout;
            for (long i = 100; busyClosedAt == 0 && (System.nanoTime() < until || !idleClosed.isDone()); i++) {
                long sent = System.nanoTime();
                try {
                    assertThat(busy.send(frame(Kinds.PING, 0, i, utf8("busy"))).read().id()).isEqualTo(i);
                    busyLast = sent;
                } catch (IOException closed) {
                    busyClosedAt = System.nanoTime();
                }
                TimeUnit.NANOSECONDS.sleep(timeout / 5);
            }

            long closedAt = idleClosed.get(30, TimeUnit.SECONDS);
            assertThat(closedAt).as("the idle connection closed cleanly, with FIN").isPositive();
            assertThat(closedAt - lastFrame).as("ns from the idle connection's last frame to its close")
                    .isGreaterThanOrEqualTo(timeout);
            if (busyClosedAt == 0) {
                assertThat(busy.send(frame(Kinds.PING, 0, 99, utf8("kept"))).read().text()).isEqualTo("kept");
            } else {
                assertThat(busyClosedAt - busyLast).as("the busy connection closed: ns since its last frame")
                        .isGreaterThanOrEqualTo(timeout);
            }
            double expected = busyClosedAt == 0 ? 1 : 2;
            await().atMost(Duration.ofSeconds(10)).until(() -> server.refusals().count(Reason.IDLE_TIMEOUT) == expected);
        }
    }
}
