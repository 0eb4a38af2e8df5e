package dev.framepipe.http;

import static dev.framepipe.testing.Frames.frame;
import static dev.framepipe.testing.Frames.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.framepipe.client.FramepipeClient;
import dev.framepipe.config.Setting;
import dev.framepipe.metrics.ConnectionErrors;
import dev.framepipe.metrics.RefusalMetrics.Reason;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.server.FramepipeServer;
import dev.framepipe.testing.LeakGuard;
import dev.framepipe.testing.RawConnection;
import dev.framepipe.testing.TestServers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The HTTP port's limits over real sockets, as a hostile client meets them: partial requests
 * closed within the header timeout, idle keep-alive connections closed after the idle timeout
 * (not before), connections beyond the cap refused while the frame port still accepts up to its
 * own cap, 431 / 414 / 413 / 400 for oversized and malformed requests, client resets counted but
 * not logged with a stack trace. Each refusal is counted under its reason in /metrics, and a
 * frame client is answered normally throughout.
 */
class HttpLimitsTest {

    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
    }

    private FramepipeServer server(Map<Setting, String> overrides) {
        FramepipeServer s = TestServers.start(overrides);
        open.add(0, s); // stopped first: its stop closes whatever the test left open
        return s;
    }

    private Socket http(FramepipeServer server) throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.setSoTimeout(20_000);
        s.connect(new InetSocketAddress("127.0.0.1", server.httpPort()), 5_000);
        open.add(s);
        return s;
    }

    private FramepipeClient frames(FramepipeServer server) throws Exception {
        FramepipeClient c = FramepipeClient.connect("127.0.0.1", server.framePort());
        open.add(c);
        return c;
    }

    /** The frame port keeps answering: one ping, answered within 10 s. */
    private static void answered(FramepipeClient c, String text) throws Exception {
        byte[] got = c.ping(utf8(text)).get(10, TimeUnit.SECONDS).payload();
        assertThat(new String(got, StandardCharsets.UTF_8)).isEqualTo(text);
    }

    @Test
    void partialRequestsAreAnswered408AndClosedAtTheHeaderTimeout() throws Exception {
        FramepipeServer server = server(Map.of(Setting.HTTP_HEADER_TIMEOUT, "1s", Setting.HTTP_IDLE_TIMEOUT, "60s"));
        FramepipeClient good = frames(server);
        int partial = 40;
        List<Socket> sockets = new ArrayList<>();
        long connectedAt = System.nanoTime();
        for (int i = 0; i < partial; i++) {
            Socket s = http(server);
            send(s, "GET /metrics HTTP/1.1\r\nHost: x\r\n"); // the headers never end
            sockets.add(s);
        }
        Socket silent = http(server); // opens and sends nothing: the first request's time runs from the open
        answered(good, "during");
        for (Socket s : sockets) {
            Response r = readResponse(s);
            if (s == sockets.getFirst()) { // the first opened: its 408 comes first
                long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - connectedAt);
                assertThat(tookMs).as("not before the header timeout").isGreaterThanOrEqualTo(1_000);
            }
            assertThat(r.status).isEqualTo(408);
            assertThat(r.headers).containsIgnoringCase("connection: close");
            assertThat(readsEof(s)).as("closed after the 408").isTrue();
        }
        assertThat(readResponse(silent).status).isEqualTo(408);
        assertThat(readsEof(silent)).isTrue();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - connectedAt)).as("all within the timeout and slack")
                .isLessThan(15_000);
        assertThat(server.refusals().count(Reason.HTTP_HEADER_TIMEOUT)).isEqualTo(partial + 1);
        answered(good, "after");
        assertThat(scrape(server)).contains("pipeline_connections_refused_total{reason=\"http_header_timeout\"} "
                + (partial + 1) + ".0");
    }

    @Test
    void theHeaderTimeoutOfALaterRequestRunsFromItsFirstByteNotTheIdleTimeout() throws Exception {
        FramepipeServer server = server(Map.of(Setting.HTTP_HEADER_TIMEOUT, "1s", Setting.HTTP_IDLE_TIMEOUT, "60s"));
        Socket s = http(server);
        send(s, "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(readResponse(s).status).isEqualTo(200);
        send(s, "GET /health/live HTTP/1.1\r\nHo"); // the second request starts and stalls
        long stalledAt = System.nanoTime();
        assertThat(readResponse(s).status).isEqualTo(408);
        assertThat(readsEof(s)).isTrue();
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stalledAt);
        assertThat(tookMs).as("the header timeout (1 s), far below the idle timeout (60 s)").isBetween(1_000L, 30_000L);
        assertThat(server.refusals().count(Reason.HTTP_HEADER_TIMEOUT)).isEqualTo(1);
        assertThat(server.refusals().count(Reason.HTTP_IDLE_TIMEOUT)).isZero();
    }

    @Test
    void idleKeepAliveConnectionsAreClosedAfterTheIdleTimeoutAndNotBefore() throws Exception {
        FramepipeServer server = server(Map.of(Setting.HTTP_HEADER_TIMEOUT, "30s", Setting.HTTP_IDLE_TIMEOUT, "2s"));
        FramepipeClient good = frames(server);
        // Busy for longer than the idle timeout, one request every 300 ms: never idle that long.
        Socket busy = http(server);
        long busyUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(3_000);
        int requests = 0;
        while (System.nanoTime() < busyUntil) {
            send(busy, "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(readResponse(busy).status).as("request %d on one connection", requests).isEqualTo(200);
            requests++;
            answered(good, "busy " + requests);
            await().pollDelay(Duration.ofMillis(300)).until(() -> true);
        }
        assertThat(server.refusals().count(Reason.HTTP_IDLE_TIMEOUT)).isZero();

        // Then idle: closed once the timeout passes after the last answer, not before. Timed
        // from before the request, so that however late this thread runs, the time measured
        // is at least the time the server waited.
        long sentAt = System.nanoTime();
        send(busy, "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(readResponse(busy).status).isEqualTo(200);
        assertThat(readsEof(busy)).isTrue();
        long idleMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sentAt);
        assertThat(idleMs).as("closed after about 2 s idle").isBetween(2_000L, 15_000L);
        assertThat(server.refusals().count(Reason.HTTP_IDLE_TIMEOUT)).isEqualTo(1);
        assertThat(server.refusals().count(Reason.HTTP_HEADER_TIMEOUT)).isZero();
        answered(good, "after");
        assertThat(scrape(server)).contains("pipeline_connections_refused_total{reason=\"http_idle_timeout\"} 1.0");
    }

    @Test
    void connectionsBeyondTheHttpCapAreRefusedWhileTheFramePortStillAcceptsUpToItsOwnCap() throws Exception {
        int httpCap = 8;
        int frameCap = 12;
        FramepipeServer server = server(Map.of(Setting.HTTP_MAX_CONNECTIONS, "" + httpCap,
                Setting.MAX_CONNECTIONS, "" + frameCap, Setting.HTTP_HEADER_TIMEOUT, "60s"));
        List<Socket> held = new ArrayList<>();
        for (int i = 0; i < httpCap; i++) {
            held.add(http(server)); // idle: each holds a slot
        }
        // Every slot is taken once the server has seen them all: a request on each still works.
        for (Socket s : held) {
            send(s, "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(readResponse(s).status).isEqualTo(200);
        }
        for (int i = 0; i < 5; i++) {
            Socket extra = http(server);
            assertThat(readsEofOrReset(extra)).as("connection %d beyond the cap is closed at once", i).isTrue();
        }
        assertThat(server.refusals().count(Reason.HTTP_MAX_CONNECTIONS)).isEqualTo(5);

        // The frame port still takes connections up to its own cap, and refuses the next.
        List<RawConnection> frameConnections = new ArrayList<>();
        for (int i = 0; i < frameCap; i++) {
            RawConnection c = new RawConnection(server.framePort());
            open.add(c);
            frameConnections.add(c);
            c.send(frame(Kinds.PING, 0, i, utf8("f" + i)));
            assertThat(c.read().id()).isEqualTo(i);
        }
        try (RawConnection over = new RawConnection(server.framePort())) {
            assertThat(over.socket().getInputStream().read()).isEqualTo(-1);
        }
        assertThat(server.refusals().count(Reason.MAX_CONNECTIONS)).isEqualTo(1);

        // A slot freed on the HTTP port is usable again.
        held.getFirst().close();
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> {
            Socket s = http(server);
            send(s, "GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            return readResponse(s).status == 200;
        });
        for (RawConnection c : frameConnections) {
            c.send(frame(Kinds.PING, 0, 100, utf8("still")));
            assertThat(c.read().text()).isEqualTo("still");
        }
        held.get(1).close(); // room for the scrape
        String metrics = await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> scrape(server), m -> true);
        assertThat(metrics).contains("pipeline_connections_refused_total{reason=\"http_max_connections\"} 5.0")
                .contains("pipeline_connections_refused_total{reason=\"max_connections\"} 1.0");
    }

    @Test
    void oversizedAndMalformedRequestsGetTheirStatusAndAClose() throws Exception {
        FramepipeServer server = server(Map.of(Setting.CLOSE_LINGER, "5s"));
        FramepipeClient good = frames(server);

        // 1 MiB header line: 431 (http-max-header-bytes 8KiB), then the server closes.
        byte[] hugeHeader = concat("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ".getBytes(StandardCharsets.US_ASCII),
                repeat('a', 1 << 20), "\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(refusedWith(server, hugeHeader)).isEqualTo(431);
        answered(good, "431");

        // A request line of 64 KiB (http-max-request-line 4KiB): 414.
        byte[] hugeLine = concat("GET /".getBytes(StandardCharsets.US_ASCII), repeat('a', 64 << 10),
                " HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(refusedWith(server, hugeLine)).isEqualTo(414);
        answered(good, "414");

        // A body over the aggregator's bound: 413.
        assertThat(refusedWith(server, ("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"
                + "x".repeat(20_000)).getBytes(StandardCharsets.US_ASCII))).isEqualTo(413);
        assertThat(server.refusals().count(Reason.HTTP_REQUEST_TOO_LARGE)).isEqualTo(3);

        // Garbage: 400, each.
        byte[][] garbage = {
                "hello world\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
                "GET /metrics\r\n\r\n".getBytes(StandardCharsets.US_ASCII), // HTTP/0.9
                "GET /metrics HTTP/1.1\r\nBad Header Name: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
                "GET /metrics HTTP/1.1\r\nHost: x\nFoo: bar\r\n\r\n".getBytes(StandardCharsets.US_ASCII), // bare LF
                "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
                "POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
                        .getBytes(StandardCharsets.US_ASCII), // a chunk size that is not hex, after good headers
                concat(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, (byte) 0xff, (byte) 0xfe, 0x7f},
                        "\r\n\r\n".getBytes(StandardCharsets.US_ASCII)), // a TLS ClientHello's first bytes
        };
        for (byte[] g : garbage) {
            assertThat(refusedWith(server, g)).as(new String(g, StandardCharsets.ISO_8859_1)).isEqualTo(400);
        }
        assertThat(server.refusals().count(Reason.HTTP_BAD_REQUEST)).isEqualTo(garbage.length);
        answered(good, "400");
        assertThat(scrape(server))
                .contains("pipeline_connections_refused_total{reason=\"http_request_too_large\"} 3.0")
                .contains("pipeline_connections_refused_total{reason=\"http_bad_request\"} " + garbage.length + ".0");
    }

    @Test
    void aBadRequestAfterGoodOnesIsAnsweredInOrderAfterThem() throws Exception {
        FramepipeServer server = server(Map.of());
        Socket s = http(server);
        send(s, "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
                + "POST /health/ready HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
                + "BAD\r\n\r\n");
        assertThat(readResponse(s).status).isEqualTo(200);
        assertThat(readResponse(s).status).isEqualTo(404);
        Response post = readResponse(s);
        assertThat(post.status).isEqualTo(405);
        assertThat(post.headers).containsIgnoringCase("allow: GET, HEAD");
        assertThat(readResponse(s).status).isEqualTo(400);
        assertThat(readsEof(s)).isTrue();
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        FramepipeServer server = server(Map.of());
        Socket s = http(server);
        StringBuilder many = new StringBuilder();
        for (int i = 0; i < 100; i++) {
            many.append("GET /health/").append(i % 2 == 0 ? "live" : "nope").append(" HTTP/1.1\r\nHost: x\r\n\r\n");
        }
        send(s, many.toString());
        for (int i = 0; i < 100; i++) {
            assertThat(readResponse(s).status).as("answer %d", i).isEqualTo(i % 2 == 0 ? 200 : 404);
        }
        send(s, "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(readResponse(s).status).as("still open").isEqualTo(200);
    }

    @Test
    void aClientPipeliningScrapesWithoutReadingIsClosedNotBuffered() throws Exception {
        FramepipeServer server = server(Map.of());
        FramepipeClient good = frames(server);
        List<LogRecord> warnings = captureWarnings();
        // 2000 scrapes (about 30 KB of answer each: 60 MB) and never a read. The server answers
        // one at a time into the socket; once the socket is full the rest wait undecoded or
        // queued, and past the codec's queue (128 unanswered) the connection is closed.
        Socket flood = http(server);
        Thread writer = Thread.ofVirtual().start(() -> {
            try {
                send(flood, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".repeat(2_000));
            } catch (IOException closed) {
                // closed by the server while this was still writing
            }
        });
        await().atMost(Duration.ofSeconds(20)).until(() ->
                server.connectionErrors().count(ConnectionErrors.Port.HTTP, ConnectionErrors.Cause.DECODE) == 1);
        answered(good, "after the flood");
        drainUntilClosed(flood);
        writer.join(10_000);
        assertThat(warnings).as("a client's doing: counted, not logged as a warning").isEmpty();
        assertThat(scrape(server)).contains("framepipe_connection_errors_total{cause=\"decode\",port=\"http\"} 1.0");
    }

    @Test
    void clientResetsOnEitherPortAreCountedAndNotLoggedWithAStackTrace() throws Exception {
        FramepipeServer server = server(Map.of());
        FramepipeClient good = frames(server);
        List<LogRecord> warnings = captureWarnings();
        int resets = 10;
        for (int i = 0; i < resets; i++) {
            Socket s = http(server);
            send(s, "GET /metrics HTTP/1.1\r\nHost: x\r\n"); // mid-request
            reset(s);
        }
        for (int i = 0; i < resets; i++) {
            RawConnection c = new RawConnection(server.framePort());
            c.send(frame(Kinds.PING, 0, 1, utf8("x")));
            assertThat(c.read().text()).isEqualTo("x");
            c.send(Arrays.copyOf(frame(Kinds.PING, 0, 2, utf8("cut")), 10)); // mid-frame
            c.reset();
        }
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            assertThat(server.connectionErrors().count(ConnectionErrors.Port.HTTP, ConnectionErrors.Cause.RESET))
                    .isEqualTo(resets);
            assertThat(server.connectionErrors().count(ConnectionErrors.Port.FRAME, ConnectionErrors.Cause.RESET))
                    .isEqualTo(resets);
        });
        answered(good, "after the resets");
        assertThat(warnings).as("nothing logged at WARNING or above, let alone a stack trace").isEmpty();
        String metrics = scrape(server);
        assertThat(metrics)
                .contains("framepipe_connection_errors_total{cause=\"reset\",port=\"http\"} " + resets + ".0")
                .contains("framepipe_connection_errors_total{cause=\"reset\",port=\"frame\"} " + resets + ".0")
                .contains("framepipe_connection_errors_total{cause=\"internal\",port=\"http\"} 0.0")
                .contains("framepipe_connection_errors_total{cause=\"internal\",port=\"frame\"} 0.0");
    }

    @Test
    void stoppingTheServerClosesHttpConnectionsMidRequestAndReleasesTheirBuffers() throws Exception {
        FramepipeServer server = server(Map.of());
        List<Socket> sockets = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            Socket s = http(server);
            send(s, "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(readResponse(s).status).isEqualTo(200);
            send(s, "GET /health/live HTTP/1.1\r\nHo"); // half a request: the codec holds a buffer
            sockets.add(s);
        }
        scrape(server); // a round trip on the same single HTTP thread: the half requests are read by now
        server.close();
        for (Socket s : sockets) {
            assertThat(readsEofOrReset(s)).isTrue();
        }
        assertThat(LeakGuard.collectLeaks()).isEmpty();
    }

    // ---- helpers ----

    /** Sends {@code request} on a new connection and returns the status, after checking the server closed. */
    private int refusedWith(FramepipeServer server, byte[] request) throws Exception {
        Socket s = http(server);
        // Written from another thread: the server answers as soon as it has seen enough, while
        // the rest is still being written (it reads on and discards it until the client closes).
        AtomicLong written = new AtomicLong();
        Thread writer = Thread.ofVirtual().start(() -> {
            try {
                OutputStream out = s.getOutputStream();
                out.write(request);
                out.flush();
                written.set(request.length);
            } catch (IOException closedEarly) {
                // the server may close before all of it was needed
            }
        });
        Response r = readResponse(s);
        assertThat(r.headers).containsIgnoringCase("connection: close");
        assertThat(readsEof(s)).as("closed cleanly after %d", r.status).isTrue();
        writer.join(10_000);
        return r.status;
    }

    private static void send(Socket s, String text) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(text.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    record Response(int status, String headers, byte[] body) {
    }

    /** Reads one HTTP/1.1 response with a Content-Length body. */
    static Response readResponse(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed before a response (read: " + head + ")");
            }
            head.write(b);
            matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        String headers = head.toString(StandardCharsets.ISO_8859_1);
        int status = Integer.parseInt(headers.substring(9, 12));
        int length = 0;
        for (String line : headers.split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        byte[] body = in.readNBytes(length);
        return new Response(status, headers, body);
    }

    /** True when the server closed cleanly: end of stream, nothing more to read. */
    private static boolean readsEof(Socket s) throws IOException {
        return s.getInputStream().read() == -1;
    }

    private static boolean readsEofOrReset(Socket s) throws IOException {
        try {
            return s.getInputStream().read() == -1;
        } catch (SocketException reset) {
            return true;
        }
    }

    private static void drainUntilClosed(Socket s) throws IOException {
        byte[] buf = new byte[64 << 10];
        try {
            while (s.getInputStream().read(buf) >= 0) {
                // discard the answers
            }
        } catch (SocketException reset) {
            // closed with data unread: also closed
        }
    }

    private static void reset(Socket s) throws IOException {
        s.setSoLinger(true, 0);
        s.close();
    }

    private List<LogRecord> captureWarnings() {
        List<LogRecord> records = new CopyOnWriteArrayList<>();
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                    records.add(r);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger root = Logger.getLogger("");
        root.addHandler(h);
        open.add(() -> root.removeHandler(h));
        return records;
    }

    static String scrape(FramepipeServer server) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.httpPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private static byte[] repeat(char c, int n) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) c);
        return b;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
