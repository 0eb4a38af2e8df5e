package dev.framepipe.security;

import static dev.framepipe.testing.Frames.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.framepipe.client.ClientOptions;
import dev.framepipe.client.ClientTls;
import dev.framepipe.client.ConnectionClosedException;
import dev.framepipe.client.FramepipeClient;
import dev.framepipe.client.Response;
import dev.framepipe.config.Setting;
import dev.framepipe.metrics.ConnectionErrors;
import dev.framepipe.metrics.RefusalMetrics.Reason;
import dev.framepipe.protocol.ErrorCode;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.server.FramepipeServer;
import dev.framepipe.testing.TestPki;
import dev.framepipe.testing.TestPki.Pem;
import dev.framepipe.testing.RawConnection;
import dev.framepipe.testing.TestServers;
import dev.framepipe.testing.TlsRawConnection;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import io.netty.pkitesting.X509Bundle;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** TLS and mutual TLS on the frame port, over real sockets, with certificates made here. */
class TlsTest {

    @TempDir
    Path dir;

    private X509Bundle ca;
    private Path caFile;
    private Pem serverPem;

    @BeforeEach
    void makeCertificates() throws Exception {
        ca = TestPki.ca("framepipe test CA");
        caFile = TestPki.writeCa(ca, dir, "ca");
        serverPem = TestPki.write(TestPki.server(ca), dir, "server");
    }

    private Map<Setting, String> tls(String provider) {
        Map<Setting, String> s = new EnumMap<>(Setting.class);
        s.put(Setting.TLS_CERT_CHAIN, serverPem.chain().toString());
        s.put(Setting.TLS_KEY, serverPem.key().toString());
        s.put(Setting.TLS_PROVIDER, provider);
        return s;
    }

    private Map<Setting, String> mutualTls(String provider) {
        Map<Setting, String> s = tls(provider);
        s.put(Setting.TLS_CLIENT_AUTH, "require");
        s.put(Setting.TLS_CA, caFile.toString());
        return s;
    }

    @Test
    void openSslLoadsOnThisPlatformSoTheOpenSslProviderIsReallyTested() {
        assertThat(OpenSsl.isAvailable()).as("netty-tcnative: %s", OpenSsl.unavailabilityCause()).isTrue();
    }

    @ParameterizedTest
    @EnumSource(value = SslProvider.class, names = {"JDK", "OPENSSL"})
    void framesTravelOverTlsWithEachProvider(SslProvider provider) throws Exception {
        try (FramepipeServer server = TestServers.start(tls(provider.name().toLowerCase()))) {
            assertThat(server.tls().provider()).isEqualTo(provider);
            for (ClientTls.Provider clientProvider : List.of(ClientTls.Provider.JDK, ClientTls.Provider.OPENSSL)) {
                try (FramepipeClient c = connect(server,
                        ClientTls.builder().trustedCertificates(caFile).provider(clientProvider).build())) {
                    List<CompletableFuture<Response>> answers = new ArrayList<>();
                    for (int i = 0; i < 200; i++) {
                        answers.add(c.upper("straße " + i));
                    }
                    byte[] big = new byte[3 << 20]; // spans many TLS records
                    for (int i = 0; i < big.length; i++) {
                        big[i] = (byte) (i * 7);
                    }
                    CompletableFuture<Response> large = c.ping(big);
                    float[] values = new float[(1 << 20) + 3]; // folded record by record, values split between records
                    double sum = 0;
                    for (int i = 0; i < values.length; i++) {
                        values[i] = i % 1000 - 499.5f;
                        sum += values[i];
                    }
                    CompletableFuture<Response> folded = c.stats(values);
                    CompletableFuture<Response> after = c.upper("after");
                    for (int i = 0; i < 200; i++) {
                        assertThat(answers.get(i).get(20, TimeUnit.SECONDS).text()).isEqualTo("STRASSE " + i);
                    }
                    assertThat(large.get(20, TimeUnit.SECONDS).payload()).isEqualTo(big);
                    Response.Stats stats = folded.get(20, TimeUnit.SECONDS).stats();
                    assertThat(stats.count()).isEqualTo(values.length);
                    assertThat(stats.sum()).isEqualTo(sum);
                    assertThat(stats.min()).isEqualTo(-499.5);
                    assertThat(stats.max()).isEqualTo(499.5);
                    assertThat(after.get(20, TimeUnit.SECONDS).text()).isEqualTo("AFTER");
                }
            }
        }
    }

    @Test
    void aPlainTcpClientIsRefusedByATlsPortAndCounted() throws Exception {
        try (FramepipeServer server = TestServers.start(tls("auto"));
             FramepipeClient plain = FramepipeClient.connect("127.0.0.1", server.framePort())) {
            CompletableFuture<Response> answer = plain.ping(utf8("hello"));
            assertThatThrownBy(() -> answer.get(20, TimeUnit.SECONDS)).hasCauseInstanceOf(ConnectionClosedException.class);
            await().atMost(Duration.ofSeconds(10)).until(() -> server.refusals().count(Reason.TLS_HANDSHAKE) == 1);
        }
    }

    @ParameterizedTest
    @EnumSource(value = SslProvider.class, names = {"JDK", "OPENSSL"})
    void mutualTlsAnswersATrustedClientAndRefusesOneWithoutACertificateAndOneFromAnotherCa(SslProvider provider)
            throws Exception {
        Pem trusted = TestPki.write(TestPki.client(ca, "trusted client"), dir, "trusted");
        X509Bundle otherCa = TestPki.ca("some other CA");
        Pem stranger = TestPki.write(TestPki.client(otherCa, "stranger"), dir, "stranger");
        try (FramepipeServer server = TestServers.start(mutualTls(provider.name().toLowerCase()))) {
            try (FramepipeClient good = connect(server, ClientTls.builder().trustedCertificates(caFile)
                    .clientCertificate(trusted.chain(), trusted.key()).build())) {
                assertThat(good.ping(utf8("me")).get(20, TimeUnit.SECONDS).text()).isEqualTo("me");

                assertRefused(server, ClientTls.trusting(caFile));
                assertRefused(server, ClientTls.builder().trustedCertificates(caFile)
                        .clientCertificate(stranger.chain(), stranger.key()).build());
                await().atMost(Duration.ofSeconds(10)).until(() -> server.refusals().count(Reason.TLS_HANDSHAKE) == 2);

                assertThat(good.ping(utf8("still")).get(20, TimeUnit.SECONDS).text()).isEqualTo("still");
            }
        }
    }

    /**
     * With TLS 1.3 the client may finish its handshake before the server has checked the client's
     * certificate; the refusal then arrives as an alert in place of the first answer.
     */
    private static void assertRefused(FramepipeServer server, ClientTls tls) throws Exception {
        FramepipeClient c;
        try {
            c = connect(server, tls);
        } catch (ConnectionClosedException refusedInHandshake) {
            return;
        }
        try (c) {
            CompletableFuture<Response> answer = c.ping(utf8("let me in"));
            assertThatThrownBy(() -> answer.get(20, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(ConnectionClosedException.class);
        }
    }

    private static FramepipeClient connect(FramepipeServer server, ClientTls tls) throws Exception {
        return FramepipeClient.connect("127.0.0.1", server.framePort(), ClientOptions.builder().tls(tls).build());
    }

    @Test
    void aRotatedCertificateIsUsedByTheNextConnectionWhileAnOpenOneKeepsWorking() throws Exception {
        Map<Setting, String> settings = tls("auto");
        settings.put(Setting.TLS_RELOAD_INTERVAL, "100ms");
        X509Bundle newCa = TestPki.ca("next year's CA");
        Path newCaFile = TestPki.writeCa(newCa, dir, "new-ca");
        Pem rotated = TestPki.write(TestPki.server(newCa), dir, "rotated");
        try (FramepipeServer server = TestServers.start(settings);
             FramepipeClient open = connect(server, ClientTls.trusting(caFile))) {
            assertThat(open.ping(utf8("before")).get(20, TimeUnit.SECONDS).text()).isEqualTo("before");

            // As cert-manager does it: new files moved into place (key first, then the chain).
            Files.move(rotated.key(), serverPem.key(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Files.move(rotated.chain(), serverPem.chain(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            await().atMost(Duration.ofSeconds(10)).until(() -> server.tls().reloads() >= 1);

            try (FramepipeClient next = connect(server, ClientTls.trusting(newCaFile))) {
                assertThat(next.ping(utf8("new")).get(20, TimeUnit.SECONDS).text()).isEqualTo("new");
            }
            assertThatThrownBy(() -> connect(server, ClientTls.trusting(caFile)).close())
                    .as("the old certificate is no longer offered").isInstanceOf(ConnectionClosedException.class);
            assertThat(open.ping(utf8("after")).get(20, TimeUnit.SECONDS).text())
                    .as("the connection opened before the rotation").isEqualTo("after");
        }
    }

    private SSLContext trustingTheCa() throws Exception {
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, ca.toTrustManagerFactory().getTrustManagers(), null);
        return ssl;
    }

    /**
     * The protocol's close over TLS: every answer before a closing error arrives, then the
     * server's close_notify, then its FIN, in that order; never a bare FIN (a truncation as far as
     * TLS can tell) nor a reset (which can destroy answers not yet read). A client that sees the
     * raw TCP beneath its TLS engine tells these apart ({@link TlsRawConnection}).
     */
    @ParameterizedTest
    @EnumSource(value = SslProvider.class, names = {"JDK", "OPENSSL"})
    void everyAnswerBeforeAClosingErrorArrivesOverTlsThenCloseNotifyThenFin(SslProvider provider) throws Exception {
        try (FramepipeServer server = TestServers.start(tls(provider.name().toLowerCase()));
             TlsRawConnection c = new TlsRawConnection(server.framePort(), trustingTheCa())) {
            byte[] payload = new byte[64 * 1024];
            int pings = 100;
            // Written by another thread: 6.4 MB of answers would fill both sockets' buffers while
            // this one is not yet reading, and a writer that waits for the reader would wait forever.
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    for (int i = 0; i < pings; i++) {
                        c.send(frame(Kinds.PING, 0, i, payload));
                    }
                    c.send(frame(9, Kinds.PING, 0, 4242, new byte[0])); // version 9: BAD_VERSION, closes
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            for (int i = 0; i < pings; i++) {
                Response r = c.read();
                assertThat(r.id()).isEqualTo(i);
                assertThat(r.payload()).hasSize(payload.length);
            }
            Response e = c.read();
            assertThat(e.id()).isEqualTo(4242);
            assertThat(e.errorCode()).isEqualTo(ErrorCode.BAD_VERSION.code());
            assertThat(c.readClose()).isEqualTo(TlsRawConnection.Close.CLOSE_NOTIFY_THEN_FIN);
            writer.get(20, TimeUnit.SECONDS);
        }
    }

    @Test
    void aClientThatNeverFinishesItsHandshakeIsClosedAtTheHandshakeTimeoutAndCounted() throws Exception {
        Map<Setting, String> settings = tls("auto");
        settings.put(Setting.TLS_HANDSHAKE_TIMEOUT, "1s");
        try (FramepipeServer server = TestServers.start(settings)) {
            long start = System.nanoTime(); // before the connect: the server's clock starts later
            try (RawConnection silent = new RawConnection(server.framePort());
                 TlsRawConnection good = new TlsRawConnection(server.framePort(), trustingTheCa())) {
                // No ClientHello ever: the server closes the socket once the timeout has passed,
                // and not before; meanwhile a client that did its handshake is answered.
                assertThat(good.send(frame(Kinds.PING, 0, 1, utf8("hello"))).read().text()).isEqualTo("hello");
                silent.socket().getInputStream().readAllBytes(); // until the server's FIN (20 s at most)
                long waited = System.nanoTime() - start;
                // Not before the timeout; and long before Netty's own default of 10 s, so the setting is the one applied.
                assertThat(waited).as("ns until the server closed the silent connection")
                        .isGreaterThanOrEqualTo(TimeUnit.SECONDS.toNanos(1)).isLessThan(TimeUnit.SECONDS.toNanos(8));
                assertThat(server.refusals().count(Reason.TLS_HANDSHAKE)).isEqualTo(1);
                assertThat(good.send(frame(Kinds.PING, 0, 2, utf8("still"))).read().text()).isEqualTo("still");
            }
        }
    }

    @Test
    void theHttpPortSpeaksTlsWhenAskedTo() throws Exception {
        Map<Setting, String> settings = tls("auto");
        settings.put(Setting.HTTP_TLS, "true");
        try (FramepipeServer server = TestServers.start(settings)) {
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, ca.toTrustManagerFactory().getTrustManagers(), null);
            try (HttpClient http = HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(5)).build()) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                        URI.create("https://127.0.0.1:" + server.httpPort() + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).contains("pipeline_connections_refused_total{reason=\"tls_handshake\"}");
            }
        }
    }

    @Test
    void tlsErrorsAfterTheHandshakeAndOnTheHttpPortAreCountedAsConnectionErrors() throws Exception {
        // The JDK's engine: it raises an exception for a record it cannot decrypt. (BoringSSL, in
        // tcnative, raises none for the record below and keeps the connection, which the idle
        // timeout then ends: nothing to count there.)
        Map<Setting, String> settings = tls("jdk");
        settings.put(Setting.HTTP_TLS, "true");
        try (FramepipeServer server = TestServers.start(settings)) {
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, ca.toTrustManagerFactory().getTrustManagers(), null);
            // Frame port: a good handshake and frame, then a record no key made.
            try (Socket plain = new Socket("127.0.0.1", server.framePort());
                 SSLSocket tls = (SSLSocket) ssl.getSocketFactory().createSocket(plain, "127.0.0.1", server.framePort(), false)) {
                tls.setSoTimeout(20_000);
                tls.getOutputStream().write(frame(Kinds.PING, 0, 1, utf8("over tls")));
                tls.getOutputStream().flush();
                assertThat(tls.getInputStream().readNBytes(16 + 8)).hasSize(24); // the answer, over TLS
                plain.getOutputStream().write(new byte[] {0x17, 0x03, 0x03, 0x00, 0x10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                        12, 13, 14, 15, 16});
                plain.getOutputStream().flush();
                await().atMost(Duration.ofSeconds(10)).until(() ->
                        server.connectionErrors().count(ConnectionErrors.Port.FRAME, ConnectionErrors.Cause.TLS) == 1);
            }
            assertThat(server.refusals().count(Reason.TLS_HANDSHAKE)).as("not a refusal: the handshake succeeded").isZero();
            // HTTP port speaking TLS: a plain-HTTP client.
            try (Socket plain = new Socket("127.0.0.1", server.httpPort())) {
                plain.setSoTimeout(20_000);
                plain.getOutputStream().write("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                try {
                    plain.getInputStream().readAllBytes(); // until the server closes
                } catch (SocketException reset) {
                    // closed with a reset: also closed
                }
            }
            await().atMost(Duration.ofSeconds(10)).until(() ->
                    server.connectionErrors().count(ConnectionErrors.Port.HTTP, ConnectionErrors.Cause.TLS) == 1);
            assertThat(server.connectionErrors().count(ConnectionErrors.Port.HTTP, ConnectionErrors.Cause.INTERNAL)).isZero();
            assertThat(server.connectionErrors().count(ConnectionErrors.Port.FRAME, ConnectionErrors.Cause.INTERNAL)).isZero();
        }
    }
}
