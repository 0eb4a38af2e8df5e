package dev.framepipe.server;

import static dev.framepipe.testing.Frames.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.client.Response;
import dev.framepipe.protocol.ErrorCode;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.protocol.Ops;
import dev.framepipe.testing.RawConnection;
import dev.framepipe.testing.TestServers;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Frames at the size limit (16 MiB length field) work; one byte more is refused. */
class LargeFrameTest {

    static final int MAX = 16 * 1024 * 1024;
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
    void aSixteenMebibyteStatsFrameIsAnsweredExactly() throws Exception {
        int n = (MAX - 12) / 4; // the largest whole number of floats under the limit
        ByteBuffer payload = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float v = (i % 1000) * 0.5f - 100f;
            payload.putFloat(v);
            sum += v;
        }
        try (RawConnection c = new RawConnection(server.framePort())) {
            Response r = c.send(frame(Kinds.FLOATS, Ops.STATS, 16, payload.array())).read();
            assertThat(r.stats().count()).isEqualTo(n);
            assertThat(r.stats().sum()).isEqualTo(sum);
            assertThat(r.stats().min()).isEqualTo(-100.0);
            assertThat(r.stats().max()).isEqualTo(399.5);
        }
    }

    @Test
    void aSixteenMebibyteScaleFrameIsScaledInPlace() throws Exception {
        int n = (MAX - 12 - 8) / 4;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = i;
        }
        try (RawConnection c = new RawConnection(server.framePort())) {
            c.socket().setReceiveBufferSize(1 << 20);
            Response r = c.send(frame(Kinds.FLOATS, Ops.SCALE, 17, scalePayload(0.5f, 1f, x))).read();
            float[] y = r.floats();
            assertThat(y).hasSize(n);
            for (int i = 0; i < n; i += 9973) {
                assertThat(y[i]).isEqualTo(Math.fma(0.5f, (float) i, 1f));
            }
            assertThat(y[n - 1]).isEqualTo(Math.fma(0.5f, (float) (n - 1), 1f));
        }
    }

    @Test
    void aPingAtExactlyTheLimitIsEchoedAndOneByteMoreIsRefused() throws Exception {
        byte[] payload = new byte[MAX - 12];
        payload[0] = 1;
        payload[payload.length - 1] = 2;
        try (RawConnection c = new RawConnection(server.framePort())) {
            Response r = c.send(frame(Kinds.PING, 0, 1, payload)).read();
            assertThat(r.payload()).isEqualTo(payload);
            c.send(header(MAX + 1L, 1, Kinds.PING, 0, 2));
            Response refused = c.read();
            assertThat(refused.error()).isEqualTo(ErrorCode.FRAME_TOO_LARGE);
            assertThat(refused.id()).isEqualTo(2);
            assertThat(c.readsCleanEof()).isTrue();
        }
    }
}
