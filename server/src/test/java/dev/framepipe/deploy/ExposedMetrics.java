package dev.framepipe.deploy;

import static org.awaitility.Awaitility.await;

import dev.framepipe.server.FramepipeServer;
import dev.framepipe.testing.TestServers;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;

/**
 * The sample names a real server exposes on /metrics (with {@code _total}, {@code _bucket},
 * {@code _count}, {@code _sum}, {@code _max} as Prometheus sees them), from one scrape of a
 * server started in this JVM and stopped again; read once per test run. A GC runs first, so the
 * GC pause meters, which appear with the first collection, are there.
 */
final class ExposedMetrics {

    private static Set<String> names;

    private ExposedMetrics() {
    }

    static synchronized Set<String> names() throws IOException, InterruptedException {
        if (names == null) {
            names = Set.copyOf(scrapeOnce());
        }
        return names;
    }

    private static Set<String> scrapeOnce() throws IOException, InterruptedException {
        FramepipeServer server = TestServers.start();
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpRequest get = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort() + "/metrics"))
                    .header("Accept", "text/plain").build();
            System.gc();
            String[] body = new String[1];
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> {
                body[0] = http.send(get, HttpResponse.BodyHandlers.ofString()).body();
                return body[0].contains("\njvm_gc_pause_seconds_count{");
            });
            Set<String> found = new TreeSet<>();
            for (String line : body[0].split("\n")) {
                if (!line.isEmpty() && !line.startsWith("#")) {
                    int end = 0;
                    while (end < line.length() && line.charAt(end) != '{' && line.charAt(end) != ' ') {
                        end++;
                    }
                    found.add(line.substring(0, end));
                }
            }
            return found;
        } finally {
            server.drainAndStop();
        }
    }
}
