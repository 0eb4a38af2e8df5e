package dev.framepipe.server;

import static dev.framepipe.testing.Frames.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.client.Response;
import dev.framepipe.config.Setting;
import dev.framepipe.protocol.ErrorCode;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.protocol.Ops;
import dev.framepipe.testing.RawConnection;
import dev.framepipe.testing.TestServers;
import io.micrometer.core.instrument.FunctionCounter;
import java.io.EOFException;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** max-connection-age: a connection is retired the way a drain ends it, and the server stays up. */
class MaxConnectionAgeTest {

    @Test
    void aBusyConnectionIsRetiredAtItsAgeWithEveryFrameAnsweredOnceOrDeclinedAndTheRestNotRun() throws Exception {
        Duration age = Duration.ofMillis(400);
        FramepipeServer server = TestServers.start(Map.of(Setting.MAX_CONNECTION_AGE, age.toMillis() + "ms"));
        try (RawConnection c = new RawConnection(server.framePort())) {
            long opened = System.nanoTime();
            AtomicLong sent = new AtomicLong();
            // Pipelined load until the server stops reading: a few frames per write, never waiting.
            Thread sender = Thread.ofPlatform().daemon().start(() -> {
                try {
                    while (true) {
                        long id = sent.get();
                        byte[] batch = concat(
                                frame(Kinds.FLOATS, Ops.STATS, id, floats(id, 1, 2)),
                                frame(Kinds.TEXT, Ops.UPPER, id + 1, utf8("frame " + (id + 1))),
                                frame(Kinds.PING, Ops.PING, id + 2, new byte[256]));
                        c.send(batch);
                        sent.addAndGet(3);
                    }
                } catch (IOException e) {
                    // the server closed after declining: expected
                }
            });

            long normal = 0;
            boolean declined = false;
            while (true) {
                Response r;
                try {
                    r = c.read();
                } catch (EOFException eof) {
                    break;
                }
                assertThat(declined).as("nothing may follow SHUTTING_DOWN").isFalse();
                assertThat(r.id()).as("answers in order, none lost or repeated").isEqualTo(normal);
                if (r.isError()) {
                    assertThat(r.error()).isEqualTo(ErrorCode.SHUTTING_DOWN);
                    assertThat(r.errorMessage()).contains("max-connection-age");
                    declined = true;
                } else {
                    normal++;
                }
            }
            long lived = System.nanoTime() - opened;
            c.close();
            sender.join(10_000);

            assertThat(normal).as("the connection carried load before it aged").isGreaterThan(100);
            assertThat(normal == sent.get() || declined)
                    .as("%d of %d answered, and no SHUTTING_DOWN", normal, sent.get()).isTrue();
            assertThat(Duration.ofNanos(lived)).isGreaterThanOrEqualTo(age.multipliedBy(9).dividedBy(10));
            assertThat(okAnswers(server)).as("the server ran exactly the frames it answered").isEqualTo(normal);
            assertThat(server.phase()).isEqualTo(FramepipeServer.Phase.READY);
            try (RawConnection next = new RawConnection(server.framePort())) {
                assertThat(next.send(frame(Kinds.PING, Ops.PING, 7, utf8("again"))).read().text())
                        .isEqualTo("again");
            }
        } finally {
            server.close();
        }
    }

    @Test
    void anIdleConnectionIsClosedCleanlyAtItsAge() throws Exception {
        FramepipeServer server = TestServers.start(Map.of(Setting.MAX_CONNECTION_AGE, "300ms"));
        try (RawConnection c = new RawConnection(server.framePort())) {
            assertThat(c.send(frame(Kinds.PING, Ops.PING, 1, utf8("hi"))).read().text()).isEqualTo("hi");
            assertThat(c.readsCleanEof()).as("FIN, not a reset").isTrue();
            assertThat(server.phase()).isEqualTo(FramepipeServer.Phase.READY);
        } finally {
            server.close();
        }
    }

    @Test
    void lifetimesAreSpreadWithinTenPercentOfTheSetting() {
        Duration age = Duration.ofMinutes(10);
        long nanos = age.toNanos();
        assertThat(ConnectionAge.lifetimeNanos(age, 0.0)).isEqualTo((long) (nanos * 0.9));
        assertThat(ConnectionAge.lifetimeNanos(age, 0.5)).isEqualTo(nanos);
        assertThat(ConnectionAge.lifetimeNanos(age, 0.999_999)).isBetween(nanos, (long) (nanos * 1.1));
        for (int i = 0; i < 1000; i++) {
            assertThat(ConnectionAge.lifetimeNanos(age)).isBetween((long) (nanos * 0.9), (long) (nanos * 1.1));
        }
        assertThat(ConnectionAge.lifetimeNanos(Duration.ZERO)).as("0 = never").isZero();
    }

    static long okAnswers(FramepipeServer server) {
        return (long) server.registry().find("pipeline.frames.completed").tag("outcome", "ok").functionCounters().stream()
                .mapToDouble(FunctionCounter::count).sum();
    }
}
