package dev.framepipe.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.client.FramepipeClient;
import dev.framepipe.server.FramepipeServer;
import dev.framepipe.testing.TestServers;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class HttpEndpointTest {

    static FramepipeServer server;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        server = TestServers.start();
        try (FramepipeClient c = FramepipeClient.connect("127.0.0.1", server.framePort())) {
            c.stats(1, 2, 3).get(10, TimeUnit.SECONDS);
            c.upper("x").get(10, TimeUnit.SECONDS);
            c.send(9, 1, new byte[0]).get(10, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    static void stop() throws InterruptedException {
        server.close();
    }

    private static HttpResponse<byte[]> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort() + path));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void metricsUseTheTextFormatByDefaultWithTheContractsNames() throws Exception {
        System.gc(); // Micrometer holds function-counter state weakly: the values must survive a collection
        HttpResponse<byte[]> r = get("/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).contains("version=0.0.4"));
        String body = new String(r.body(), StandardCharsets.UTF_8);
        assertThat(body)
                .contains("pipeline_frames_received_total{kind=\"floats\"} 1.0")
                .contains("pipeline_frames_completed_total{kind=\"text\",op=\"upper\",outcome=\"ok\"} 1.0")
                .contains("pipeline_frames_completed_total{kind=\"other\",op=\"unknown\",outcome=\"error\"} 1.0")
                .contains("pipeline_errors_total{code=\"unknown_kind\"} 1.0")
                .contains("pipeline_received_bytes_total")
                .contains("pipeline_sent_bytes_total")
                .contains("pipeline_frame_duration_seconds_bucket{kind=\"floats\",op=\"stats\",le=")
                .contains("pipeline_connections_active")
                .contains("pipeline_connections_opened_total")
                .contains("pipeline_ring_capacity{ring=\"0\"} 1024.0")
                .contains("pipeline_backpressure_pauses_total{reason=\"ring_full\"}")
                .contains("pipeline_transform_total{path=\"in_place\"} 1.0")
                .contains("pipeline_heap_allocated_bytes_total{threads=\"io\"}")
                .contains("jvm_memory_used_bytes");
    }

    @Test
    void metricsAnswerOpenMetricsWhenTheScraperAsksForIt() throws Exception {
        HttpResponse<byte[]> r = get("/metrics", "Accept", "application/openmetrics-text; version=1.0.0");
        assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(v ->
                assertThat(v).startsWith("application/openmetrics-text"));
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).contains("pipeline_frames_received_total").endsWith("# EOF\n");
    }

    @Test
    void metricsAreGzippedWhenAsked() throws Exception {
        HttpResponse<byte[]> r = get("/metrics", "Accept-Encoding", "gzip");
        assertThat(r.headers().firstValue("content-encoding")).hasValue("gzip");
        String body = new String(new GZIPInputStream(new ByteArrayInputStream(r.body())).readAllBytes(), StandardCharsets.UTF_8);
        assertThat(body).contains("pipeline_frames_received_total");
    }

    @Test
    void healthEndpointsAnswerAndUnknownPathsAndMethodsAreRefused() throws Exception {
        assertThat(get("/health/live").statusCode()).isEqualTo(200);
        assertThat(get("/health/ready").statusCode()).isEqualTo(200);
        assertThat(get("/nope").statusCode()).isEqualTo(404);
        HttpResponse<String> post = HTTP.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.httpPort() + "/metrics"))
                .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("allow")).hasValue("GET, HEAD");
    }
}
