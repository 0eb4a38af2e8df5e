package dev.framepipe.server;

import static dev.framepipe.testing.Frames.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.framepipe.client.Response;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.protocol.Ops;
import dev.framepipe.testing.RawConnection;
import dev.framepipe.testing.TestServers;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Connections that end early: a frame cut off by a disconnect is released (the leak check after
 * this class proves it), complete frames before a half-close are still answered, and a frame
 * that trickles in one byte at a time is decoded like any other.
 */
class DisconnectTest {

    static FramepipeServer server;

    @BeforeAll
    static void start() {
        server = TestServers.start();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        server.close();
    }

    @Test
    void aFrameArrivingOneByteAtATimeIsAnswered() throws Exception {
        byte[] f = concat(frame(Kinds.TEXT, Ops.UPPER, 7, utf8("one byte at a time")),
                frame(Kinds.FLOATS, Ops.STATS, 8, floats(1, 2, 3)));
        try (RawConnection c = new RawConnection(server.framePort())) {
            for (byte b : f) {
                c.send(new byte[] {b});
            }
            assertThat(c.read().text()).isEqualTo("ONE BYTE AT A TIME");
            assertThat(c.read().stats().sum()).isEqualTo(6.0);
        }
    }

    @Test
    void aDisconnectInTheMiddleOfAFrameLeaksNothingAndHarmsNoOtherConnection() throws Exception {
        try (RawConnection other = new RawConnection(server.framePort())) {
            for (int round = 0; round < 20; round++) {
                RawConnection c = new RawConnection(server.framePort());
                byte[] f = frame(Kinds.FLOATS, Ops.STATS, round, new byte[100_000]);
                c.send(Arrays.copyOf(f, 5_000 + round * 997));
                if (round % 2 == 0) {
                    c.reset();
                } else {
                    c.close();
                }
            }
            assertThat(other.send(frame(Kinds.PING, 0, 1, utf8("alive"))).read().text()).isEqualTo("alive");
            await().atMost(Duration.ofSeconds(10)).until(() -> server.openConnections() == 1);
        }
    }

    @Test
    void aDisconnectWithAnswersStillBeingComputedLeaksNothing() throws Exception {
        for (int round = 0; round < 10; round++) {
            RawConnection c = new RawConnection(server.framePort());
            byte[] big = frame(Kinds.FLOATS, Ops.SCALE, 1, new byte[8 + 400_000]);
            c.send(concat(big, big, big, frame(Kinds.TEXT, Ops.UPPER, 2, utf8("x".repeat(1000)))));
            c.reset();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> server.openConnections() == 0);
    }

    @Test
    void completeFramesBeforeAHalfCloseAreAnsweredThenTheServerCloses() throws Exception {
        try (RawConnection c = new RawConnection(server.framePort())) {
            byte[] partial = Arrays.copyOf(frame(Kinds.PING, 0, 99, utf8("cut off")), 10);
            c.send(concat(frame(Kinds.PING, 0, 1, utf8("a")), frame(Kinds.TEXT, Ops.LOWER, 2, utf8("B")), partial));
            c.shutdownOutput();
            Response first = c.read();
            Response second = c.read();
            assertThat(first.text()).isEqualTo("a");
            assertThat(second.text()).isEqualTo("b");
            assertThat(c.readsCleanEof()).isTrue();
        }
    }
}
