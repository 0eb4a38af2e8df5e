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
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every kind, op and error code over a real socket, with the connection state the table prescribes. */
class FrameRoundTripTest {

    static FramepipeServer server;

    @BeforeAll
    static void start() {
        server = TestServers.start();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        server.close();
    }

    private RawConnection connect() throws Exception {
        return new RawConnection(server.framePort());
    }

    @Test
    void drainsParkBetweenBurstsOnlyWithAWorkerToSpareAndAnswerEitherWay() throws Exception {
        assertThat(server.lanes()).allSatisfy(l -> assertThat(l.idleParkNanos()).isPositive());
        try (FramepipeServer scarce = TestServers.start(Map.of(Setting.IO_THREADS, "2", Setting.WORKER_PARALLELISM, "2"))) {
            assertThat(scarce.lanes()).hasSize(2).allSatisfy(l -> assertThat(l.idleParkNanos()).isZero());
            // two connections: Netty assigns them to the two I/O threads in turn, one per lane
            try (RawConnection a = new RawConnection(scarce.framePort());
                 RawConnection b = new RawConnection(scarce.framePort())) {
                for (int i = 1; i <= 20; i++) {
                    assertThat(a.send(frame(Kinds.FLOATS, Ops.STATS, i, floats(i, 1))).read().stats().sum())
                            .isEqualTo(i + 1);
                    assertThat(b.send(frame(Kinds.PING, 0, i, utf8("b" + i))).read().text()).isEqualTo("b" + i);
                }
            }
        }
    }

    @Test
    void statsAnswersCountSumMinMaxMeanAndPopulationVariance() throws Exception {
        try (RawConnection c = connect()) {
            Response r = c.send(frame(Kinds.FLOATS, Ops.STATS, 42, floats(1, 2, 3, 4))).read();
            assertThat(r.kind()).isEqualTo(0x81);
            assertThat(r.op()).isEqualTo(Ops.STATS);
            assertThat(r.id()).isEqualTo(42);
            assertThat(r.stats()).isEqualTo(new Response.Stats(4, 10, 1, 4, 2.5, 1.25));
        }
    }

    @Test
    void statsOfNothingIsCountZeroSumZeroAndNaNElsewhere() throws Exception {
        try (RawConnection c = connect()) {
            Response.Stats s = c.send(frame(Kinds.FLOATS, Ops.STATS, 1, new byte[0])).read().stats();
            assertThat(s.count()).isZero();
            assertThat(s.sum()).isZero();
            assertThat(s.min()).isNaN();
            assertThat(s.max()).isNaN();
            assertThat(s.mean()).isNaN();
            assertThat(s.variance()).isNaN();
        }
    }

    @Test
    void statsPropagatesNaNAndFollowsIeeeForInfinities() throws Exception {
        try (RawConnection c = connect()) {
            Response.Stats nan = c.send(frame(Kinds.FLOATS, Ops.STATS, 1, floats(1, Float.NaN, 3))).read().stats();
            assertThat(nan.count()).isEqualTo(3);
            assertThat(new double[] {nan.sum(), nan.min(), nan.max(), nan.mean(), nan.variance()}).containsOnly(Double.NaN);

            Response.Stats inf = c.send(frame(Kinds.FLOATS, Ops.STATS, 2, floats(1, Float.POSITIVE_INFINITY))).read().stats();
            assertThat(inf.sum()).isEqualTo(Double.POSITIVE_INFINITY);
            assertThat(inf.min()).isEqualTo(1.0);
            assertThat(inf.max()).isEqualTo(Double.POSITIVE_INFINITY);
            assertThat(inf.mean()).isEqualTo(Double.POSITIVE_INFINITY);
            assertThat(inf.variance()).isNaN();

            Response.Stats both = c.send(frame(Kinds.FLOATS, Ops.STATS, 3,
                    floats(Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY))).read().stats();
            assertThat(both.sum()).isNaN();
            assertThat(both.min()).isEqualTo(Double.NEGATIVE_INFINITY);
            assertThat(both.max()).isEqualTo(Double.POSITIVE_INFINITY);
            assertThat(both.variance()).isNaN();
        }
    }

    @Test
    void statsIsAccurateWhenTheMeanIsLargeNextToTheSpread() throws Exception {
        float[] x = new float[10_001];
        for (int i = 0; i < x.length; i++) {
            x[i] = 1.0e6f + (i % 2 == 0 ? 0.0625f : -0.0625f);
        }
        // exact: 5001 values of 1e6+1/16 and 5000 of 1e6-1/16
        double n = x.length;
        double mean = (5001 * (1.0e6 + 0.0625) + 5000 * (1.0e6 - 0.0625)) / n;
        double variance = (5001 * Math.pow(1.0e6 + 0.0625 - mean, 2) + 5000 * Math.pow(1.0e6 - 0.0625 - mean, 2)) / n;
        try (RawConnection c = connect()) {
            Response.Stats s = c.send(frame(Kinds.FLOATS, Ops.STATS, 9, floats(x))).read().stats();
            assertThat(Math.abs(s.variance() - variance)).isLessThanOrEqualTo(1e-9 * variance + 1e-15 * mean * mean);
            assertThat(s.mean()).isCloseTo(mean, org.assertj.core.data.Offset.offset(1e-9 * mean));
        }
    }

    @Test
    void statsWithAPartialFloatIsMalformedAndTheConnectionStaysOpen() throws Exception {
        try (RawConnection c = connect()) {
            Response r = c.send(frame(Kinds.FLOATS, Ops.STATS, 5, new byte[6])).read();
            assertError(r, ErrorCode.MALFORMED, Ops.STATS, 5);
            assertThat(c.send(frame(Kinds.PING, 0, 6, utf8("still open"))).read().text()).isEqualTo("still open");
        }
    }

    @Test
    void scaleAppliesOneRoundingFmaToEveryValue() throws Exception {
        float a = 1.1f;
        float b = -0.3f;
        float[] x = {0, 1, -2.5f, 1e-40f, Float.MAX_VALUE, Float.NaN, Float.NEGATIVE_INFINITY, 3.3333f};
        try (RawConnection c = connect()) {
            Response r = c.send(frame(Kinds.FLOATS, Ops.SCALE, 77, scalePayload(a, b, x))).read();
            assertThat(r.kind()).isEqualTo(0x81);
            assertThat(r.id()).isEqualTo(77);
            float[] y = r.floats();
            assertThat(y).hasSize(x.length);
            for (int i = 0; i < x.length; i++) {
                assertThat(Float.floatToIntBits(y[i])).as("y[%d]", i).isEqualTo(Float.floatToIntBits(Math.fma(a, x[i], b)));
            }
        }
    }

    @Test
    void scaleWithNoValuesAnswersAnEmptyArray() throws Exception {
        try (RawConnection c = connect()) {
            Response r = c.send(frame(Kinds.FLOATS, Ops.SCALE, 8, scalePayload(2, 3))).read();
            assertThat(r.isError()).isFalse();
            assertThat(r.payload()).isEmpty();
        }
    }

    @Test
    void scaleWithoutAAndBOrWithAPartialFloatIsMalformed() throws Exception {
        try (RawConnection c = connect()) {
            assertError(c.send(frame(Kinds.FLOATS, Ops.SCALE, 1, new byte[7])).read(), ErrorCode.MALFORMED, 2, 1);
            assertError(c.send(frame(Kinds.FLOATS, Ops.SCALE, 2, new byte[10])).read(), ErrorCode.MALFORMED, 2, 2);
            assertThat(c.send(frame(Kinds.FLOATS, Ops.SCALE, 3, scalePayload(2, 0, 4))).read().floats())
                    .containsExactly(8f);
        }
    }

    @Test
    void upperAndLowerMatchJavaRootLocaleMappingIncludingLengthChanges() throws Exception {
        String[] samples = {"", "hello, World 123", "straße", "ὈΔΥΣΣΕΎΣ", "İstanbul ıi", "ﬁne ﬂow", "𐐨𐐩 deseret",
            "Привет мир", "ǅǆǄ", "日本語テキスト", "emoji 😀 ok", "ΌΣΟΣ ΣΑΣ"};
        try (RawConnection c = connect()) {
            long id = 100;
            for (String s : samples) {
                Response up = c.send(frame(Kinds.TEXT, Ops.UPPER, ++id, utf8(s))).read();
                assertThat(up.kind()).isEqualTo(0x82);
                assertThat(up.id()).isEqualTo(id);
                assertThat(up.text()).as("UPPER %s", s).isEqualTo(s.toUpperCase(java.util.Locale.ROOT));
                Response low = c.send(frame(Kinds.TEXT, Ops.LOWER, ++id, utf8(s))).read();
                assertThat(low.text()).as("LOWER %s", s).isEqualTo(s.toLowerCase(java.util.Locale.ROOT));
            }
        }
    }

    @Test
    void countGivesBytesCodePointsWordsAndLines() throws Exception {
        String text = "  héllo\twörld\n😀 two\r\nthree\n";
        try (RawConnection c = connect()) {
            Response.Counts n = c.send(frame(Kinds.TEXT, Ops.COUNT, 3, utf8(text))).read().counts();
            assertThat(n).isEqualTo(new Response.Counts(utf8(text).length, text.codePointCount(0, text.length()), 5, 3));
        }
    }

    @Test
    void invalidUtf8IsRejectedForEveryTextOpAndTheConnectionStaysOpen() throws Exception {
        byte[][] bad = {
            {(byte) 0xC0, (byte) 0x80},                    // overlong NUL
            {(byte) 0xE0, (byte) 0x80, (byte) 0xAF},       // overlong '/'
            {(byte) 0xED, (byte) 0xA0, (byte) 0x80},       // surrogate U+D800
            {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, // above U+10FFFF
            {'a', (byte) 0xE2, (byte) 0x82},               // truncated
            {(byte) 0x80},                                  // stray continuation
            {(byte) 0xFF},                                  // never valid
        };
        try (RawConnection c = connect()) {
            long id = 1;
            for (byte[] b : bad) {
                for (int op : new int[] {Ops.UPPER, Ops.LOWER, Ops.COUNT}) {
                    assertError(c.send(frame(Kinds.TEXT, op, id, b)).read(), ErrorCode.INVALID_UTF8, op, id);
                    id++;
                }
            }
            assertThat(c.send(frame(Kinds.TEXT, Ops.UPPER, id, utf8("ok"))).read().text()).isEqualTo("OK");
        }
    }

    @Test
    void pingEchoesTheBytesItReceived() throws Exception {
        byte[] payload = new byte[1000];
        new java.util.Random(7).nextBytes(payload);
        try (RawConnection c = connect()) {
            Response r = c.send(frame(Kinds.PING, 0, -1L, payload)).read();
            assertThat(r.kind()).isEqualTo(0x83);
            assertThat(r.id()).isEqualTo(-1L);
            assertThat(r.payload()).isEqualTo(payload);
            assertThat(c.send(frame(Kinds.PING, 0, 2, new byte[0])).read().payload()).isEmpty();
        }
    }

    @Test
    void unknownKindAndUnknownOpAreAnsweredAndTheConnectionStaysOpen() throws Exception {
        try (RawConnection c = connect()) {
            assertError(c.send(frame(9, 1, 10, new byte[3])).read(), ErrorCode.UNKNOWN_KIND, 1, 10);
            assertError(c.send(frame(0x81, 1, 11, new byte[0])).read(), ErrorCode.UNKNOWN_KIND, 1, 11);
            assertError(c.send(frame(Kinds.FLOATS, 3, 12, new byte[0])).read(), ErrorCode.UNKNOWN_OP, 3, 12);
            assertError(c.send(frame(Kinds.TEXT, 0, 13, new byte[0])).read(), ErrorCode.UNKNOWN_OP, 0, 13);
            assertError(c.send(frame(Kinds.PING, 1, 14, new byte[0])).read(), ErrorCode.UNKNOWN_OP, 1, 14);
            assertThat(c.send(frame(Kinds.PING, 0, 15, utf8("x"))).read().text()).isEqualTo("x");
        }
    }

    @Test
    void badVersionIsAnsweredAfterEarlierFramesThenTheServerClosesCleanly() throws Exception {
        try (RawConnection c = connect()) {
            c.send(concat(frame(Kinds.PING, 0, 1, utf8("a")), frame(2, Kinds.PING, 0, 2, utf8("b")),
                    frame(Kinds.PING, 0, 3, utf8("never answered"))));
            assertThat(c.read().text()).isEqualTo("a");
            assertError(c.read(), ErrorCode.BAD_VERSION, 0, 2);
            c.send(new byte[4096]); // the server reads and discards this instead of resetting
            assertThat(c.readsCleanEof()).as("FIN, not a reset").isTrue();
        }
    }

    @Test
    void lengthBelowTwelveIsMalformedWithIdZeroAndClosesTheConnection() throws Exception {
        try (RawConnection c = connect()) {
            c.send(concat(frame(Kinds.PING, 0, 1, utf8("first")), header(11, 1, Kinds.PING, 0, 99)));
            assertThat(c.read().text()).isEqualTo("first");
            Response r = c.read();
            assertError(r, ErrorCode.MALFORMED, 0, 0);
            assertThat(c.readsCleanEof()).isTrue();
        }
    }

    @Test
    void frameTooLargeTakesTheIdFromTheHeaderDoesNotReadThePayloadAndCloses() throws Exception {
        long tooLarge = 16L * 1024 * 1024 + 1;
        try (RawConnection c = connect()) {
            c.send(header(tooLarge, 1, Kinds.FLOATS, Ops.STATS, 1234));
            assertError(c.read(), ErrorCode.FRAME_TOO_LARGE, Ops.STATS, 1234);
            c.send(new byte[64 * 1024]); // part of the announced payload: discarded
            assertThat(c.readsCleanEof()).isTrue();
        }
    }

    @Test
    void lengthFieldAboveTwoGigabytesIsFrameTooLarge() throws Exception {
        try (RawConnection c = connect()) {
            c.send(header(0xFFFF_FFF0L, 1, Kinds.PING, 0, 5));
            assertError(c.read(), ErrorCode.FRAME_TOO_LARGE, 0, 5);
            assertThat(c.readsCleanEof()).isTrue();
        }
    }

    static void assertError(Response r, ErrorCode code, int op, long id) {
        assertThat(r.kind()).as("error kind of %s", r).isEqualTo(0xFF);
        assertThat(r.error()).as("error of %s", r).isEqualTo(code);
        assertThat(r.op()).as("op of %s", r).isEqualTo(op);
        assertThat(r.id()).as("id of %s", r).isEqualTo(id);
        assertThat(new String(r.payload(), 2, r.payload().length - 2, StandardCharsets.UTF_8)).isNotBlank();
    }
}
