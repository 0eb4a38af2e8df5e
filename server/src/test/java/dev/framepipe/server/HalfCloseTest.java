package dev.framepipe.server;

import static dev.framepipe.testing.Frames.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.client.Response;
import dev.framepipe.config.Setting;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.protocol.Ops;
import dev.framepipe.testing.Contention;
import dev.framepipe.testing.RawConnection;
import dev.framepipe.testing.TestPki;
import dev.framepipe.testing.TestServers;
import io.netty.pkitesting.X509Bundle;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * PROTOCOL.md, Errors: "A frame that was cut off by the client closing its side gets no answer;
 * everything complete before it does." A client pipelines about 4 MB of mixed frames, sends the
 * first bytes of one more frame and half-closes while it keeps reading. Every complete frame is
 * answered, in order, then the server closes cleanly (FIN, no reset), whatever kind of
 * back-pressure had paused reading when the FIN arrived: the frames still in the socket's
 * receive buffer are read after it.
 */
class HalfCloseTest {

    static final int FRAMES = 400;
    static final String TEXT = "straße ΟΔΟΣ ".repeat(700); // about 11 KB, upper-casing changes its length

    @TempDir
    static Path pki;
    static X509Bundle ca;
    static TestPki.Pem serverPem;

    @BeforeAll
    static void certificates() throws Exception {
        ca = TestPki.ca("half-close CA");
        serverPem = TestPki.write(TestPki.server(ca), pki, "server");
    }

    /**
     * Each kind of back-pressure on its own, then all together; plain and over TLS 1.3 with each
     * provider (over TLS the client half-closes with close_notify, then the FIN).
     */
    static Stream<Arguments> pressures() {
        List<Arguments> all = new ArrayList<>();
        for (String tls : TLS_PROVIDERS) {
            all.add(Arguments.of("none", Map.of(), false, tls));
            all.add(Arguments.of("max-in-flight", Map.of(Setting.MAX_IN_FLIGHT, "4"), false, tls));
            all.add(Arguments.of("unwritable", Map.of(Setting.WRITE_BUFFER_HIGH_WATER, "32KiB",
                    Setting.WRITE_BUFFER_LOW_WATER, "16KiB"), true, tls));
            all.add(Arguments.of("ring full", Map.of(Setting.RING_CAPACITY, "4"), false, tls));
            all.add(Arguments.of("direct memory", Map.of(Setting.DIRECT_MEMORY_BUDGET, "1MiB"), false, tls));
            all.add(Arguments.of("all", Map.of(Setting.MAX_IN_FLIGHT, "4", Setting.RING_CAPACITY, "4",
                    Setting.WRITE_BUFFER_HIGH_WATER, "32KiB", Setting.WRITE_BUFFER_LOW_WATER, "16KiB",
                    Setting.DIRECT_MEMORY_BUDGET, "1MiB"), true, tls));
        }
        return all.stream();
    }

    /** "plain", or the server's TLS provider. */
    static final List<String> TLS_PROVIDERS = List.of("plain", "jdk", "openssl");

    @ParameterizedTest(name = "{0}, {3}")
    @MethodSource("pressures")
    void everyCompleteFrameBeforeAHalfCloseIsAnsweredUnderBackPressure(String name, Map<Setting, String> pressure,
            boolean slowReader, String tls) throws Exception {
        Map<Setting, String> settings = new EnumMap<>(Setting.class);
        settings.putAll(pressure);
        if (!tls.equals("plain")) {
            settings.put(Setting.TLS_CERT_CHAIN, serverPem.chain().toString());
            settings.put(Setting.TLS_KEY, serverPem.key().toString());
            settings.put(Setting.TLS_PROVIDER, tls);
        }
        try (FramepipeServer server = TestServers.start(settings)) {
            for (int round = 0; round < Contention.rounds(3); round++) {
                halfCloseRound(server, slowReader, !tls.equals("plain"));
            }
        }
    }

    private static void halfCloseRound(FramepipeServer server, boolean slowReader, boolean tls) throws Exception {
        byte[] upper = utf8(TEXT);
        String upperExpected = TEXT.toUpperCase(Locale.ROOT);
        byte[] ping = new byte[300];
        for (int i = 0; i < ping.length; i++) {
            ping[i] = (byte) (i * 7);
        }
        float[] values = new float[4096];
        for (int i = 0; i < values.length; i++) {
            values[i] = i % 97 - 48;
        }
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        for (int id = 1; id <= FRAMES; id++) {
            stream.writeBytes(switch (id % 4) {
                case 1 -> frame(Kinds.PING, Ops.PING, id, ping);
                case 2 -> frame(Kinds.FLOATS, Ops.STATS, id, floats(values));
                case 3 -> frame(Kinds.TEXT, Ops.UPPER, id, upper);
                default -> frame(Kinds.FLOATS, Ops.SCALE, id, scalePayload(2, 1, values));
            });
        }
        byte[] cut = java.util.Arrays.copyOf(frame(Kinds.FLOATS, Ops.STATS, FRAMES + 1, floats(values)), 40);
        stream.writeBytes(cut);
        byte[] bytes = stream.toByteArray();

        try (RawConnection c = tls ? RawConnection.tls(server.framePort(), trusting(ca)) : new RawConnection(server.framePort())) {
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                try {
                    for (int at = 0; at < bytes.length; at += 64 * 1024) {
                        c.send(java.util.Arrays.copyOfRange(bytes, at, Math.min(bytes.length, at + 64 * 1024)));
                        Contention.pause();
                    }
                    c.shutdownOutput();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            if (slowReader) {
                Thread.sleep(300); // answers pile up on the server: it pauses reading (unwritable)
            }
            int answered = 0;
            try {
                for (int id = 1; id <= FRAMES; id++) {
                    Response r = c.read();
                    assertThat(r.id()).as("answer %d of %d", id, FRAMES).isEqualTo(id);
                    assertThat(r.isError()).as("answer to %d: %s", id, r).isFalse();
                    switch (id % 4) {
                        case 1 -> assertThat(r.payload()).isEqualTo(ping);
                        case 2 -> assertThat(ByteBuffer.wrap(r.payload()).order(ByteOrder.LITTLE_ENDIAN).getLong(0))
                                .isEqualTo(values.length);
                        case 3 -> assertThat(new String(r.payload(), StandardCharsets.UTF_8)).isEqualTo(upperExpected);
                        default -> assertThat(r.payload()).hasSize(4 * values.length);
                    }
                    answered++;
                    if (id % 50 == 0) {
                        Contention.pause();
                    }
                }
            } catch (EOFException e) {
                throw new AssertionError("the server closed after " + answered + " of " + FRAMES + " answers", e);
            }
            assertThat(c.readsCleanEof()).as("after the last answer: the server's FIN, no answer to the cut frame")
                    .isTrue();
            sent.get(30, TimeUnit.SECONDS);
        }
    }

    /**
     * The server holds back a TLS record that may be a close_notify while answers are owed; a
     * record of that size can also carry two bytes of a frame. Such records (a frame written two
     * bytes at a time, each write its own record) must only wait for the answers before them,
     * never for ever.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"openssl", "jdk"})
    void framesWrittenTwoBytesPerTlsRecordAreAnsweredWhileOthersAreInFlight(String provider) throws Exception {
        Map<Setting, String> settings = new EnumMap<>(Setting.class);
        settings.put(Setting.TLS_CERT_CHAIN, serverPem.chain().toString());
        settings.put(Setting.TLS_KEY, serverPem.key().toString());
        settings.put(Setting.TLS_PROVIDER, provider);
        try (FramepipeServer server = TestServers.start(settings);
             RawConnection c = RawConnection.tls(server.framePort(), trusting(ca))) {
            float[] big = new float[1 << 16];
            for (int id = 0; id < 20; id++) {
                c.send(frame(Kinds.FLOATS, Ops.STATS, id, floats(big))); // work in flight meanwhile
                byte[] small = frame(Kinds.PING, 0, 1000 + id, utf8("two bytes at a time " + id));
                for (int at = 0; at < small.length; at += 2) {
                    c.send(java.util.Arrays.copyOfRange(small, at, Math.min(small.length, at + 2)));
                }
            }
            for (int id = 0; id < 20; id++) {
                assertThat(c.read().id()).isEqualTo(id);
                Response ping = c.read();
                assertThat(ping.id()).isEqualTo(1000 + id);
                assertThat(ping.text()).isEqualTo("two bytes at a time " + id);
            }
        }
    }

    static SSLContext trusting(X509Bundle ca) throws Exception {
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, ca.toTrustManagerFactory().getTrustManagers(), null);
        return ssl;
    }
}
