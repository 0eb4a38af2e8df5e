package dev.framepipe.baseline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.framepipe.client.Response;
import dev.framepipe.protocol.ErrorCode;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.protocol.Ops;
import dev.framepipe.testing.Frames;
import dev.framepipe.testing.RawConnection;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The raw baseline answers every frame in order with an answer of the service's size (computing
 * nothing), streams frames larger than its buffer, and gives the protocol's error frames, closing
 * where PROTOCOL.md says. A small buffer (4 KiB) makes the streaming and out-of-room paths run.
 */
class RawBaselineServerTest {

    static final int BUFFER = 4096;
    static RawBaselineServer server;

    @BeforeAll
    static void start() throws Exception {
        server = new RawBaselineServer("127.0.0.1", 0, BUFFER, 1 << 20);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        server.close();
    }

    @Test
    void everyOpIsAnsweredInOrderWithAnAnswerOfTheServicesSize() throws Exception {
        byte[] text = Frames.utf8("Hello, wire");
        byte[] ping = {1, 2, 3};
        try (RawConnection c = new RawConnection(server.port())) {
            c.send(Frames.concat(
                    Frames.frame(Kinds.FLOATS, Ops.STATS, 1, Frames.floats(1, 2, 3)),
                    Frames.frame(Kinds.FLOATS, Ops.SCALE, 2, Frames.scalePayload(2, 1, 5, 6)),
                    Frames.frame(Kinds.TEXT, Ops.UPPER, 3, text),
                    Frames.frame(Kinds.TEXT, Ops.LOWER, 4, text),
                    Frames.frame(Kinds.TEXT, Ops.COUNT, 5, text),
                    Frames.frame(Kinds.PING, Ops.PING, 6, ping),
                    Frames.frame(Kinds.PING, Ops.PING, 7, new byte[0])));
            expect(c.read(), 0x81, Ops.STATS, 1, new byte[48]);
            expect(c.read(), 0x81, Ops.SCALE, 2, Frames.floats(5, 6)); // the values, echoed
            expect(c.read(), 0x82, Ops.UPPER, 3, text);
            expect(c.read(), 0x82, Ops.LOWER, 4, text);
            expect(c.read(), 0x82, Ops.COUNT, 5, new byte[32]);
            expect(c.read(), 0x83, Ops.PING, 6, ping);
            expect(c.read(), 0x83, Ops.PING, 7, new byte[0]);
        }
    }

    @Test
    void framesSplitAnywhereAreAnsweredAsWhole() throws Exception {
        byte[] frames = Frames.concat(Frames.frame(Kinds.PING, Ops.PING, 10, Frames.utf8("split")),
                Frames.frame(Kinds.FLOATS, Ops.STATS, 11, Frames.floats(4)));
        try (RawConnection c = new RawConnection(server.port())) {
            for (byte b : frames) {
                c.send(new byte[] {b});
            }
            expect(c.read(), 0x83, Ops.PING, 10, Frames.utf8("split"));
            expect(c.read(), 0x81, Ops.STATS, 11, new byte[48]);
        }
    }

    @Test
    void framesLargerThanTheBufferAreStreamedThrough() throws Exception {
        byte[] big = new byte[25 * BUFFER + 7];
        new Random(1).nextBytes(big);
        float[] values = new float[10 * BUFFER];
        Arrays.fill(values, 1.5f);
        try (RawConnection c = new RawConnection(server.port())) {
            c.send(Frames.concat(Frames.frame(Kinds.PING, Ops.PING, 1, big),
                    Frames.frame(Kinds.FLOATS, Ops.STATS, 2, Frames.floats(values)),
                    Frames.frame(Kinds.FLOATS, Ops.SCALE, 3, Frames.scalePayload(1, 2, values)),
                    Frames.frame(Kinds.TEXT, Ops.COUNT, 4, big),
                    Frames.frame(Kinds.PING, Ops.PING, 5, new byte[] {9})));
            expect(c.read(), 0x83, Ops.PING, 1, big);
            expect(c.read(), 0x81, Ops.STATS, 2, new byte[48]);
            expect(c.read(), 0x81, Ops.SCALE, 3, Frames.floats(values));
            expect(c.read(), 0x82, Ops.COUNT, 4, new byte[32]);
            expect(c.read(), 0x83, Ops.PING, 5, new byte[] {9});
        }
    }

    @Test
    void answersLargerThanOneWriteBufferGoOutInSeveralWritesInOrder() throws Exception {
        // 16-byte requests of an unknown kind get 30-byte answers: a read full of them makes more
        // answer bytes than the answer buffer holds.
        ByteArrayOutputStream requests = new ByteArrayOutputStream();
        int n = 4 * BUFFER / 16;
        for (int i = 0; i < n; i++) {
            requests.writeBytes(Frames.frame(9, 0, i, new byte[0]));
        }
        try (RawConnection c = new RawConnection(server.port())) {
            c.send(requests.toByteArray());
            for (int i = 0; i < n; i++) {
                Response r = c.read();
                assertThat(r.id()).isEqualTo(i);
                assertThat(r.error()).isEqualTo(ErrorCode.UNKNOWN_KIND);
            }
            c.send(Frames.frame(Kinds.PING, Ops.PING, 99, new byte[0]));
            expect(c.read(), 0x83, Ops.PING, 99, new byte[0]);
        }
    }

    @Test
    void errorsThatKeepTheConnectionOpenAreAnsweredAndTheNextFrameToo() throws Exception {
        try (RawConnection c = new RawConnection(server.port())) {
            c.send(Frames.concat(Frames.frame(7, 1, 1, new byte[5]),
                    Frames.frame(Kinds.FLOATS, 9, 2, new byte[0]),
                    Frames.frame(Kinds.TEXT, 0, 3, new byte[0]),
                    Frames.frame(Kinds.PING, 1, 4, new byte[0]),
                    Frames.frame(Kinds.FLOATS, Ops.SCALE, 5, new byte[4]),
                    Frames.frame(Kinds.FLOATS, Ops.SCALE, 6, new byte[10]),
                    Frames.frame(Kinds.PING, Ops.PING, 7, new byte[] {1})));
            expectError(c.read(), 1, 1, ErrorCode.UNKNOWN_KIND);
            expectError(c.read(), 9, 2, ErrorCode.UNKNOWN_OP);
            expectError(c.read(), 0, 3, ErrorCode.UNKNOWN_OP);
            expectError(c.read(), 1, 4, ErrorCode.UNKNOWN_OP);
            expectError(c.read(), Ops.SCALE, 5, ErrorCode.MALFORMED);
            expectError(c.read(), Ops.SCALE, 6, ErrorCode.MALFORMED);
            expect(c.read(), 0x83, Ops.PING, 7, new byte[] {1});
        }
    }

    @Test
    void aBadVersionIsAnsweredAfterEveryEarlierFrameAndTheConnectionClosesCleanly() throws Exception {
        try (RawConnection c = new RawConnection(server.port())) {
            c.send(Frames.concat(Frames.frame(Kinds.PING, Ops.PING, 1, new byte[0]),
                    Frames.frame(2, Kinds.PING, Ops.PING, 2, new byte[3]),
                    Frames.frame(Kinds.PING, Ops.PING, 3, new byte[0])));
            expect(c.read(), 0x83, Ops.PING, 1, new byte[0]);
            expectError(c.read(), Ops.PING, 2, ErrorCode.BAD_VERSION);
            // Sending more after the error must not turn the close into a reset.
            c.send(Frames.frame(Kinds.PING, Ops.PING, 4, new byte[100]));
            assertThat(c.readsCleanEof()).isTrue();
        }
    }

    @Test
    void aLengthBelowTwelveIsMalformedWithIdZeroAndCloses() throws Exception {
        try (RawConnection c = new RawConnection(server.port())) {
            c.send(Frames.header(11, 1, Kinds.PING, 5, 77));
            expectError(c.read(), 0, 0, ErrorCode.MALFORMED);
            assertThat(c.readsCleanEof()).isTrue();
        }
    }

    @Test
    void aFrameOverTheLimitIsRefusedWithItsIdUnreadAndCloses() throws Exception {
        try (RawConnection c = new RawConnection(server.port())) {
            c.send(Frames.header((1 << 20) + 1, 1, Kinds.PING, 0, 42));
            expectError(c.read(), 0, 42, ErrorCode.FRAME_TOO_LARGE);
            assertThat(c.readsCleanEof()).isTrue();
        }
    }

    @Test
    void aFrameCutOffByTheClientGetsNoAnswerButEverythingBeforeItDoes() throws Exception {
        try (RawConnection c = new RawConnection(server.port())) {
            byte[] whole = Frames.frame(Kinds.PING, Ops.PING, 1, new byte[8]);
            byte[] cut = Arrays.copyOf(Frames.frame(Kinds.PING, Ops.PING, 2, new byte[8]), 20);
            c.send(Frames.concat(whole, cut));
            c.shutdownOutput();
            expect(c.read(), 0x83, Ops.PING, 1, new byte[8]);
            assertThat(c.readsCleanEof()).isTrue();
        }
    }

    @Test
    void badSettingsAreRefused() {
        assertThatThrownBy(() -> new RawBaselineServer("127.0.0.1", 0, 1024, 1 << 20))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 4096");
        assertThatThrownBy(() -> new RawBaselineServer("127.0.0.1", 0, BUFFER, 11))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 12");
    }

    private static void expect(Response r, int kind, int op, long id, byte[] payload) {
        assertThat(r.kind()).as("kind of %s", r).isEqualTo(kind);
        assertThat(r.op()).as("op of %s", r).isEqualTo(op);
        assertThat(r.id()).as("id of %s", r).isEqualTo(id);
        assertThat(r.payload()).as("payload of %s", r).isEqualTo(payload);
    }

    private static void expectError(Response r, int op, long id, ErrorCode code) {
        assertThat(r.kind()).as("kind of %s", r).isEqualTo(0xFF);
        assertThat(r.op()).as("op of %s", r).isEqualTo(op);
        assertThat(r.id()).as("id of %s", r).isEqualTo(id);
        assertThat(r.error()).as("error of %s", r).isEqualTo(code);
        assertThat(r.errorMessage()).isNotBlank();
    }
}
