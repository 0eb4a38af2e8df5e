package dev.framepipe.metrics;

import static dev.framepipe.testing.Frames.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.framepipe.client.Response;
import dev.framepipe.config.Setting;
import dev.framepipe.protocol.ErrorCode;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.protocol.Ops;
import dev.framepipe.server.FramepipeServer;
import dev.framepipe.testing.RawConnection;
import dev.framepipe.testing.TestServers;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The metrics contract (shared METRICS.md) end to end: a server gets traffic of every kind and
 * op, errors of several codes, a burst that fills its ring and a client that stops reading; then
 * {@code /metrics} is scraped over HTTP, parsed, and every family is checked for its type, its
 * exact label names and values that moved exactly as the traffic says they should.
 */
class MetricsContractTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final int BURST = 64;
    private static final int BIG_PINGS = 48;
    private static final int BIG_PING_BYTES = 512 * 1024;
    private static final int MAX_CONNECTIONS = 3;

    private static FramepipeServer server;
    /** What the traffic should have counted: "kind/op/outcome" → frames, code → errors, path → transforms. */
    private static final Map<String, Integer> completed = new HashMap<>();
    private static final Map<String, Integer> received = new HashMap<>();
    private static final Map<String, Integer> errors = new HashMap<>();
    private static long bytesSent;
    private static long bytesAnswered;
    private static int connections;
    private static Exposition before;
    private static Exposition after;
    private static String afterText;

    @BeforeAll
    static void sendTrafficAndScrape() throws Exception {
        server = TestServers.start(Map.of(
                Setting.RING_CAPACITY, "2", // a pipelined burst fills it: ring_full pauses
                Setting.WRITE_BUFFER_HIGH_WATER, "64KiB", // a client that stops reading: unwritable pauses
                Setting.WRITE_BUFFER_LOW_WATER, "32KiB",
                Setting.MAX_CONNECTIONS, "" + MAX_CONNECTIONS, // one more is refused: max_connections
                Setting.DIRECT_MEMORY_BUDGET, "512MiB",
                // every batch to the workers, so that their heap counter moves too (error answers
                // allocate their message); small batches answered inline count as the I/O thread's
                Setting.INLINE_MAX_BYTES, "0"));
        before = scrape();

        try (RawConnection c = connect()) {
            exchange(c, frame(Kinds.FLOATS, Ops.STATS, 1, floats(1, 2, 3)), "floats", "stats", null);
            exchange(c, frame(Kinds.FLOATS, Ops.STATS, 2, new byte[0]), "floats", "stats", null);
            exchange(c, frame(Kinds.FLOATS, Ops.STATS, 3, new byte[5]), "floats", "stats", ErrorCode.MALFORMED);
            exchange(c, frame(Kinds.FLOATS, Ops.SCALE, 4, scalePayload(2, 1, 1, 2)), "floats", "scale", null);
            exchange(c, frame(Kinds.FLOATS, Ops.SCALE, 5, new byte[6]), "floats", "scale", ErrorCode.MALFORMED);
            exchange(c, frame(Kinds.FLOATS, 7, 6, new byte[0]), "floats", "unknown", ErrorCode.UNKNOWN_OP);
            exchange(c, frame(Kinds.TEXT, Ops.UPPER, 7, utf8("HELLO")), "text", "upper", null);      // borrowed
            exchange(c, frame(Kinds.TEXT, Ops.UPPER, 8, utf8("hello")), "text", "upper", null);      // in_place
            Response fi = exchange(c, frame(Kinds.TEXT, Ops.UPPER, 9, utf8("\uFB01")), "text", "upper", null);
            assertThat(new String(fi.payload(), StandardCharsets.UTF_8)).isEqualTo("FI");        // copied: 3 → 2 bytes
            exchange(c, frame(Kinds.TEXT, Ops.LOWER, 10, utf8("abc")), "text", "lower", null);       // borrowed
            exchange(c, frame(Kinds.TEXT, Ops.LOWER, 11, utf8("ABC")), "text", "lower", null);       // in_place
            exchange(c, frame(Kinds.TEXT, Ops.COUNT, 12, utf8("a b\nc")), "text", "count", null);
            exchange(c, frame(Kinds.TEXT, Ops.UPPER, 13, new byte[] {(byte) 0xC0, (byte) 0x80}), "text", "upper",
                    ErrorCode.INVALID_UTF8);
            exchange(c, frame(Kinds.TEXT, 9, 14, utf8("x")), "text", "unknown", ErrorCode.UNKNOWN_OP);
            exchange(c, frame(Kinds.PING, Ops.PING, 15, utf8("ping")), "ping", "ping", null);
            exchange(c, frame(Kinds.PING, 5, 16, new byte[0]), "ping", "unknown", ErrorCode.UNKNOWN_OP);
            exchange(c, frame(9, 1, 17, new byte[0]), "other", "unknown", ErrorCode.UNKNOWN_KIND);

            // One write of many frames: the I/O thread decodes them in one read, and the lane
            // (two slots) is full after the second, so reading pauses for ring_full.
            byte[][] burst = new byte[BURST][];
            for (int i = 0; i < BURST; i++) {
                burst[i] = frame(Kinds.PING, Ops.PING, 100 + i, utf8("burst"));
            }
            send(c, concat(burst));
            for (int i = 0; i < BURST; i++) {
                answer(c, "ping", "ping", null);
            }
        }
        // Errors that close the connection, each on its own.
        closingError(frame(2, Kinds.PING, Ops.PING, 20, new byte[0]), ErrorCode.BAD_VERSION);
        closingError(header(17L << 20, 1, Kinds.PING, Ops.PING, 21), ErrorCode.FRAME_TOO_LARGE);
        closingError(header(8, 1, Kinds.PING, Ops.PING, 22), ErrorCode.MALFORMED);
        clientThatStopsReading();

        await().atMost(Duration.ofSeconds(30)).until(() -> scrape().value("pipeline_connections_active") == 0);
        oneConnectionTooMany();
        await().atMost(Duration.ofSeconds(30)).until(() -> scrape().value("pipeline_connections_active") == 0);
        afterText = scrapeText("text/plain");
        after = Exposition.parse(afterText);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (server != null) {
            server.close();
        }
    }

    // ---- traffic ----

    private static RawConnection connect() throws IOException {
        connections++;
        return new RawConnection(server.framePort());
    }

    private static void send(RawConnection c, byte[] bytes) throws IOException {
        c.send(bytes);
        bytesSent += bytes.length;
    }

    private static Response exchange(RawConnection c, byte[] frame, String kind, String op, ErrorCode error)
            throws IOException {
        send(c, frame);
        return answer(c, kind, op, error);
    }

    /** Reads one answer, checks it is the expected result or error, and books what it should count. */
    private static Response answer(RawConnection c, String kind, String op, ErrorCode error) throws IOException {
        Response r = c.read();
        bytesAnswered += 16 + r.payload().length;
        assertThat(r.error()).as("answer to %s/%s", kind, op).isEqualTo(error);
        completed.merge(kind + "/" + op + "/" + (error == null ? "ok" : "error"), 1, Integer::sum);
        received.merge(kind, 1, Integer::sum);
        if (error != null) {
            errors.merge(error.label(), 1, Integer::sum);
        }
        return r;
    }

    private static void closingError(byte[] bytes, ErrorCode code) throws IOException {
        try (RawConnection c = connect()) {
            send(c, bytes);
            answer(c, "other", "unknown", code); // a frame that does not decode has no kind or op
            assertThat(c.readsCleanEof()).isTrue();
        }
    }

    /**
     * Big pings written by another thread while this one does not read: the server's outbound
     * buffer passes the high-water mark and reading pauses for unwritable. Only once the metric
     * shows the pause does this thread read the answers.
     */
    private static void clientThatStopsReading() throws Exception {
        try (RawConnection c = connect()) {
            byte[] payload = new byte[BIG_PING_BYTES];
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    for (int i = 0; i < BIG_PINGS; i++) {
                        c.send(frame(Kinds.PING, Ops.PING, 1000 + i, payload));
                    }
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> scrape().value("pipeline_backpressure_pauses_total", "reason", "unwritable") >= 1);
            for (int i = 0; i < BIG_PINGS; i++) {
                answer(c, "ping", "ping", null);
            }
            writer.get(30, TimeUnit.SECONDS);
            bytesSent += (long) BIG_PINGS * (16 + BIG_PING_BYTES);
        }
    }

    /** max-connections open, then one more: closed at once, unanswered, and counted as refused. */
    private static void oneConnectionTooMany() throws IOException {
        List<RawConnection> open = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < MAX_CONNECTIONS; i++) {
                RawConnection c = connect();
                open.add(c);
                exchange(c, frame(Kinds.PING, Ops.PING, 200 + i, utf8("in")), "ping", "ping", null);
            }
            try (RawConnection extra = connect()) { // sends nothing: bytes the server never reads would reset
                assertThat(extra.readsCleanEof()).as("closed at once").isTrue();
            }
        } finally {
            for (RawConnection c : open) {
                c.close();
            }
        }
    }

    // ---- scraping ----

    private static HttpResponse<String> get(String accept) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort() + "/metrics"))
                .header("Accept", accept).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String scrapeText(String accept) throws IOException, InterruptedException {
        HttpResponse<String> r = get(accept);
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    private static Exposition scrape() throws IOException, InterruptedException {
        return Exposition.parse(scrapeText("text/plain"));
    }

    private static void assertFamily(String family, String type, Set<String> labels) {
        assertThat(after.types()).as("TYPE of %s", family).containsEntry(family, type);
        String sample = type.equals("counter") ? family + "_total" : family;
        assertThat(after.series(sample)).as("samples of %s", sample).isNotEmpty();
        assertThat(after.labelNames(sample)).as("labels of %s", sample).containsExactly(labels);
    }

    // ---- the contract ----

    @Test
    void everyFamilyOfTheContractHasItsTypeAndExactlyItsLabels() {
        assertFamily("pipeline_frames_received", "counter", Set.of("kind"));
        assertFamily("pipeline_frames_completed", "counter", Set.of("kind", "op", "outcome"));
        assertFamily("pipeline_errors", "counter", Set.of("code"));
        assertFamily("pipeline_received_bytes", "counter", Set.of());
        assertFamily("pipeline_sent_bytes", "counter", Set.of());
        assertFamily("pipeline_connections_active", "gauge", Set.of());
        assertFamily("pipeline_connections_opened", "counter", Set.of());
        assertFamily("pipeline_ring_capacity", "gauge", Set.of("ring"));
        assertFamily("pipeline_ring_occupancy", "gauge", Set.of("ring"));
        assertFamily("pipeline_backpressure_pauses", "counter", Set.of("reason"));
        assertFamily("pipeline_heap_allocated_bytes", "counter", Set.of("threads"));
        assertFamily("pipeline_transform", "counter", Set.of("path"));
        assertFamily("pipeline_connections_refused", "counter", Set.of("reason"));
        assertFamily("pipeline_direct_memory_budget_bytes", "gauge", Set.of());

        assertThat(after.types()).containsEntry("pipeline_frame_duration_seconds", "histogram");
        assertThat(after.labelNames("pipeline_frame_duration_seconds_bucket")).containsExactly(Set.of("kind", "op", "le"));
        assertThat(after.labelNames("pipeline_frame_duration_seconds_count")).containsExactly(Set.of("kind", "op"));
        assertThat(after.labelNames("pipeline_frame_duration_seconds_sum")).containsExactly(Set.of("kind", "op"));
    }

    @Test
    void labelValuesAreTheContractsBoundedSets() {
        Set<String> kinds = Set.of("floats", "text", "ping", "other");
        assertThat(after.labelValues("pipeline_frames_received_total", "kind")).isEqualTo(kinds);
        assertThat(after.labelValues("pipeline_frames_completed_total", "kind")).isEqualTo(kinds);
        assertThat(after.labelValues("pipeline_frames_completed_total", "op"))
                .isEqualTo(Set.of("stats", "scale", "upper", "lower", "count", "ping", "unknown"));
        assertThat(after.labelValues("pipeline_frames_completed_total", "outcome")).isEqualTo(Set.of("ok", "error"));
        assertThat(after.labelValues("pipeline_errors_total", "code")).isEqualTo(Set.of("bad_version", "unknown_kind",
                "unknown_op", "malformed", "frame_too_large", "invalid_utf8", "shutting_down", "internal"));
        // The contract's two reasons, plus direct_memory (the direct-memory budget of docs/security.md).
        assertThat(after.labelValues("pipeline_backpressure_pauses_total", "reason"))
                .isEqualTo(Set.of("ring_full", "unwritable", "direct_memory"));
        assertThat(after.labelValues("pipeline_heap_allocated_bytes_total", "threads")).isEqualTo(Set.of("io", "worker"));
        assertThat(after.labelValues("pipeline_transform_total", "path")).isEqualTo(Set.of("borrowed", "in_place", "copied"));
        assertThat(after.labelValues("pipeline_ring_capacity", "ring")).isEqualTo(Set.of("0", "1")); // two I/O threads
        // The contract's five reasons are all there (the HTTP port's additions: the next test).
        assertThat(after.labelValues("pipeline_connections_refused_total", "reason"))
                .containsAll(Set.of("max_connections", "not_ready", "idle_timeout", "slow_frame", "tls_handshake"));
    }

    @Test
    void theAdditionsForBothPortsLimitsAreBoundedSetsToo() {
        // The contract's five refusal reasons (the frame port's) and the HTTP port's five.
        assertFamily("pipeline_connections_refused", "counter", Set.of("reason"));
        assertThat(after.labelValues("pipeline_connections_refused_total", "reason")).isEqualTo(Set.of(
                "max_connections", "not_ready", "idle_timeout", "slow_frame", "tls_handshake",
                "http_max_connections", "http_header_timeout", "http_idle_timeout", "http_request_too_large",
                "http_bad_request"));
        assertFamily("framepipe_connection_errors", "counter", Set.of("port", "cause"));
        assertThat(after.labelValues("framepipe_connection_errors_total", "port")).isEqualTo(Set.of("frame", "http"));
        assertThat(after.labelValues("framepipe_connection_errors_total", "cause"))
                .isEqualTo(Set.of("reset", "tls", "decode", "other", "internal"));
        for (String port : new String[] {"frame", "http"}) {
            assertThat(after.value("framepipe_connection_errors_total", "port", port, "cause", "internal"))
                    .as("no bug met on the %s port", port).isZero();
        }
    }

    @Test
    void framesAreCountedByKindOnArrivalAndByKindOpAndOutcomeOnAnswer() {
        for (String kind : List.of("floats", "text", "ping", "other")) {
            assertThat(after.value("pipeline_frames_received_total", "kind", kind)).as("received %s", kind)
                    .isEqualTo((double) received.getOrDefault(kind, 0));
        }
        for (Exposition.Sample s : after.series("pipeline_frames_completed_total")) {
            Map<String, String> l = s.labels();
            assertThat(s.value()).as("completed %s", l)
                    .isEqualTo((double) completed.getOrDefault(l.get("kind") + "/" + l.get("op") + "/" + l.get("outcome"), 0));
        }
        assertThat(completed.keySet()).as("every kind and op was sent").contains("floats/stats/ok", "floats/scale/ok",
                "text/upper/ok", "text/lower/ok", "text/count/ok", "ping/ping/ok", "other/unknown/error");
    }

    @Test
    void errorsAreCountedByCode() {
        for (ErrorCode code : ErrorCode.values()) {
            assertThat(after.value("pipeline_errors_total", "code", code.label())).as("errors %s", code)
                    .isEqualTo((double) errors.getOrDefault(code.label(), 0));
        }
        assertThat(errors).containsOnlyKeys("bad_version", "unknown_kind", "unknown_op", "malformed", "frame_too_large",
                "invalid_utf8");
        assertThat(errors.get("malformed")).isEqualTo(3); // STATS and SCALE payloads, and a length below 12
    }

    @Test
    void bytesInAndOutAreEveryByteOnTheFrameSockets() {
        assertThat(after.value("pipeline_received_bytes_total")).isEqualTo((double) bytesSent);
        assertThat(after.value("pipeline_sent_bytes_total")).isEqualTo((double) bytesAnswered);
    }

    /** The bucket bounds docs/observability.md gives: 25 µs to 10 s, 17 bounds, then +Inf. */
    private static final double[] BOUNDS = {
        25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3, 1, 2.5, 10,
        Double.POSITIVE_INFINITY
    };

    @Test
    void theDurationHistogramCountsEveryAnsweredFrameOfItsKindAndOpInItsBuckets() {
        int withFrames = 0;
        for (Exposition.Sample count : after.series("pipeline_frame_duration_seconds_count")) {
            String kind = count.labels().get("kind");
            String op = count.labels().get("op");
            String what = kind + "/" + op;
            double answered = after.value("pipeline_frames_completed_total", "kind", kind, "op", op, "outcome", "ok")
                    + after.value("pipeline_frames_completed_total", "kind", kind, "op", op, "outcome", "error");
            assertThat(count.value()).as("histogram count of %s", what).isEqualTo(answered);
            List<Exposition.Sample> buckets = after.series("pipeline_frame_duration_seconds_bucket",
                    b -> b.labels().get("kind").equals(kind) && b.labels().get("op").equals(op));
            assertThat(buckets.stream().map(b -> b.labels().get("le"))
                    .mapToDouble(le -> le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le)).toArray())
                    .as("bucket bounds of %s", what).containsExactly(BOUNDS);
            // Cumulative: each bucket counts the frames at or below its bound, the last all of them.
            for (int i = 1; i < buckets.size(); i++) {
                assertThat(buckets.get(i).value()).as("%s le=%s", what, BOUNDS[i])
                        .isGreaterThanOrEqualTo(buckets.get(i - 1).value());
            }
            assertThat(buckets.getLast().value()).as("+Inf bucket of %s", what).isEqualTo(answered);
            // _sum within what the buckets allow: a frame in (lower, upper] took more than lower,
            // at most upper (the +Inf bucket bounds nothing above).
            double sum = after.value("pipeline_frame_duration_seconds_sum", "kind", kind, "op", op);
            double least = 0;
            double most = 0;
            for (int i = 0; i < buckets.size(); i++) {
                double n = buckets.get(i).value() - (i == 0 ? 0 : buckets.get(i - 1).value());
                if (n > 0) { // (0 x +Inf is NaN, which would bound nothing)
                    least += n * (i == 0 ? 0 : BOUNDS[i - 1]);
                    most += n * BOUNDS[i];
                }
            }
            assertThat(most).as("upper bound of %s's _sum", what).isNotNaN();
            assertThat(sum).as("_sum of %s against its buckets", what).isBetween(least, most);
            if (answered > 0) {
                assertThat(sum).as("_sum of %s", what).isPositive();
                withFrames++;
            } else {
                assertThat(sum).as("_sum of %s", what).isZero();
            }
        }
        assertThat(withFrames).as("kinds and ops with answered frames").isGreaterThanOrEqualTo(7);
    }

    @Test
    void refusedConnectionsAreCountedByReason() {
        assertThat(before.sum("pipeline_connections_refused_total")).isZero();
        assertThat(after.value("pipeline_connections_refused_total", "reason", "max_connections")).isEqualTo(1.0);
        for (String reason : List.of("not_ready", "idle_timeout", "slow_frame", "tls_handshake")) {
            assertThat(after.value("pipeline_connections_refused_total", "reason", reason)).as(reason).isZero();
        }
    }

    @Test
    void theDirectMemoryBudgetGaugeIsTheSetting() {
        assertThat(after.value("pipeline_direct_memory_budget_bytes")).isEqualTo(512.0 * 1024 * 1024);
        assertThat(before.value("pipeline_direct_memory_budget_bytes")).isEqualTo(512.0 * 1024 * 1024);
    }

    @Test
    void connectionsAreCountedWhenOpenedAndActiveOnlyWhileOpen() {
        assertThat(after.value("pipeline_connections_opened_total")).isEqualTo((double) connections);
        assertThat(after.value("pipeline_connections_active")).isZero(); // all closed
    }

    @Test
    void ringsShowTheirCapacityAndAreEmptyWhenIdle() {
        for (Exposition.Sample s : after.series("pipeline_ring_capacity")) {
            assertThat(s.value()).isEqualTo(2.0);
        }
        for (Exposition.Sample s : after.series("pipeline_ring_occupancy")) {
            assertThat(s.value()).isZero();
        }
    }

    @Test
    void readingPausesAreCountedForAFullRingAndAnUnwritableSocket() {
        assertThat(before.sum("pipeline_backpressure_pauses_total")).isZero();
        assertThat(after.value("pipeline_backpressure_pauses_total", "reason", "ring_full")).isGreaterThanOrEqualTo(1);
        assertThat(after.value("pipeline_backpressure_pauses_total", "reason", "unwritable")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void eachTransformPathIsCountedForTheInputThatTakesIt() {
        // borrowed: UPPER "HELLO", LOWER "abc"; in place: UPPER "hello", LOWER "ABC", SCALE;
        // copied: UPPER "ﬁ" (3 bytes) → "FI" (2 bytes). Errors and other ops are not transforms.
        assertThat(after.value("pipeline_transform_total", "path", "borrowed")).isEqualTo(2.0);
        assertThat(after.value("pipeline_transform_total", "path", "in_place")).isEqualTo(3.0);
        assertThat(after.value("pipeline_transform_total", "path", "copied")).isEqualTo(1.0);
    }

    @Test
    void heapAllocatedByThePipelinesOwnThreadsIsCountedAndOnlyGrows() {
        double io = after.value("pipeline_heap_allocated_bytes_total", "threads", "io");
        double worker = after.value("pipeline_heap_allocated_bytes_total", "threads", "worker");
        assertThat(io).isGreaterThan(before.value("pipeline_heap_allocated_bytes_total", "threads", "io"));
        assertThat(worker).isPositive()
                .isGreaterThanOrEqualTo(before.value("pipeline_heap_allocated_bytes_total", "threads", "worker"));
    }

    @Test
    void theBuildInfoNamesThisBuildsVersionRevisionAndJava() {
        assertThat(after.types()).containsEntry("framepipe_build_info", "gauge");
        assertThat(after.series("framepipe_build_info")).singleElement().satisfies(s -> {
            assertThat(s.value()).isEqualTo(1.0);
            assertThat(s.labels()).containsOnlyKeys("version", "revision", "java")
                    .containsEntry("version", dev.framepipe.BuildInfo.current().version())
                    .containsEntry("revision", dev.framepipe.BuildInfo.current().revision())
                    .containsEntry("java", System.getProperty("java.version"));
            // the build filled them in (the project's version, a commit or "unknown" without git)
            assertThat(s.labels().get("version")).matches("\\d+\\.\\d+\\.\\d+.*");
            assertThat(s.labels().get("revision")).matches("[0-9a-f]{40}|unknown");
        });
    }

    @Test
    void theAllocatorsMemoryIsInBytesWithLabelsThatAreTheSameInEveryRun() {
        assertThat(after.types()).containsEntry("netty_allocator_memory_used_bytes", "gauge")
                .containsEntry("netty_allocator_memory_pinned_bytes", "gauge")
                .doesNotContainKeys("netty_allocator_memory_used", "netty_allocator_pooled_arenas");
        for (String family : List.of("netty_allocator_memory_used_bytes", "netty_allocator_memory_pinned_bytes")) {
            assertThat(after.labelNames(family)).as(family).containsExactly(Set.of("allocator", "memory_type"));
            assertThat(after.labelValues(family, "allocator")).as(family).isEqualTo(Set.of("pooled"));
            assertThat(after.labelValues(family, "memory_type")).as(family).isEqualTo(Set.of("direct", "heap"));
        }
        // the frames went through pooled direct memory: the allocator holds some, and its pinned
        // part (buffers in use) never exceeds what it holds
        double used = after.value("netty_allocator_memory_used_bytes", "allocator", "pooled", "memory_type", "direct");
        assertThat(used).isPositive();
        assertThat(after.value("netty_allocator_memory_pinned_bytes", "allocator", "pooled", "memory_type", "direct"))
                .isBetween(0.0, used);
    }

    @Test
    void jvmAndProcessMetricsArePresent() {
        assertThat(after.value("jvm_memory_used_bytes", "area", "heap", "id",
                after.series("jvm_memory_used_bytes", s -> "heap".equals(s.labels().get("area"))).getFirst()
                        .labels().get("id"))).isPositive();
        assertThat(after.series("jvm_buffer_memory_used_bytes", s -> "direct".equals(s.labels().get("id")))).hasSize(1);
        assertThat(after.types()).containsEntry("jvm_gc_memory_allocated_bytes", "counter")
                .containsKeys("jvm_gc_live_data_size_bytes", "jvm_threads_live_threads", "jvm_classes_loaded_classes");
        assertThat(after.value("jvm_gc_memory_allocated_bytes_total")).isPositive();
        assertThat(after.value("process_cpu_seconds_total")).isPositive();
        assertThat(after.value("process_uptime_seconds")).isPositive();
        assertThat(after.value("process_start_time_seconds")).isPositive();
        assertThat(after.value("process_files_open_files")).isPositive();
    }

    @Test
    void noSeriesNamesAClientThing() {
        for (Exposition.Sample s : after.samples()) {
            assertThat(s.labels().keySet()).as("labels of %s", s.name())
                    .doesNotContain("id_frame", "client", "address", "connection", "remote");
        }
        assertThat(after.samples().stream().filter(s -> s.name().startsWith("pipeline_")).count())
                .as("pipeline series are fixed at start-up").isEqualTo(before.samples().stream()
                        .filter(s -> s.name().startsWith("pipeline_")).count());
    }

    @Test
    void openMetricsCarriesTheSameValuesAndEndsWithEof() throws Exception {
        HttpResponse<String> r = get("application/openmetrics-text; version=1.0.0");
        assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(v ->
                assertThat(v).startsWith("application/openmetrics-text"));
        assertThat(r.body()).endsWith("# EOF\n");
        Exposition om = Exposition.parse(r.body());
        // OpenMetrics declares a counter family without _total; its samples keep it.
        assertThat(om.types()).containsEntry("pipeline_frames_completed", "counter")
                .containsEntry("pipeline_frame_duration_seconds", "histogram")
                .containsEntry("pipeline_ring_occupancy", "gauge");
        for (String family : List.of("pipeline_frames_completed_total", "pipeline_errors_total",
                "pipeline_transform_total", "pipeline_frame_duration_seconds_count", "pipeline_sent_bytes_total")) {
            assertThat(om.series(family)).as(family).isNotEmpty();
            for (Exposition.Sample s : om.series(family)) {
                assertThat(s.value()).as("%s%s", family, s.labels())
                        .isEqualTo(after.value(family, flatten(s.labels())));
            }
        }
    }

    private static String[] flatten(Map<String, String> labels) {
        return labels.entrySet().stream().flatMap(e -> java.util.stream.Stream.of(e.getKey(), e.getValue()))
                .toArray(String[]::new);
    }
}
