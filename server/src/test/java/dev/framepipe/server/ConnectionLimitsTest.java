package dev.framepipe.server;

import static dev.framepipe.testing.Frames.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.framepipe.config.Setting;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.testing.RawConnection;
import dev.framepipe.testing.TestServers;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
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

    @Test
    void aConnectionWithNoCompleteFrameForTheIdleTimeoutIsClosedCleanly() throws Exception {
        try (FramepipeServer server = TestServers.start(Map.of(Setting.IDLE_TIMEOUT, "1s"));
             RawConnection busy = new RawConnection(server.framePort());
             RawConnection idle = new RawConnection(server.framePort())) {
            assertThat(idle.send(frame(Kinds.PING, 0, 1, utf8("once"))).read().text()).isEqualTo("once");
            byte[] trickle = frame(Kinds.PING, 0, 2, utf8("never completed"));
            idle.send(Arrays.copyOf(trickle, 10)); // bytes, but no complete frame
            // The busy connection answers frame after frame for well past the timeout.
            long until = System.nanoTime() + Duration.ofMillis(2500).toNanos();
            for (long i = 0; System.nanoTime() < until; i++) {
                busy.send(frame(Kinds.PING, 0, i, utf8("busy")));
                assertThat(busy.read().id()).isEqualTo(i);
            }
            assertThat(idle.readsCleanEof()).isTrue();
            assertThat(busy.send(frame(Kinds.PING, 0, 99, utf8("kept"))).read().text()).isEqualTo("kept");
        }
    }
}
