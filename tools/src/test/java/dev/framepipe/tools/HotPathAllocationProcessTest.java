package dev.framepipe.tools;

import dev.framepipe.testing.FramepipeProcesses;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service's own heap allocation per frame under load, as a user reads it from /metrics
 * ({@code pipeline_heap_allocated_bytes_total} over {@code pipeline_frames_completed_total}), on
 * a real {@code framepipe serve} process with production defaults (the test JVM runs Netty's leak
 * detector at PARANOID, which allocates on every buffer access, so it cannot measure this itself).
 * The load comes from {@code framepipe load} in a third process. Budget: 16 B per frame.
 */
class HotPathAllocationProcessTest {

    /** The budget for heap allocated per frame in steady state. */
    static final double BUDGET_BYTES_PER_FRAME = 16;
    /** Frames of a measured run: enough that fixed costs (a scrape, a timer) weigh nothing per frame. */
    static final long MEASURED_FRAMES = 200_000;

    @TempDir
    Path tmp;

    @Test
    void smallFramesAllocateAtMostSixteenHeapBytesEachInSteadyState() throws Exception {
        int framePort = FramepipeProcesses.freePort();
        int httpPort = FramepipeProcesses.freePort();
        Process server = FramepipeProcesses.framepipe("serve", "--bind-address", "127.0.0.1", "--frame-port", "" + framePort,
                "--http-port", "" + httpPort, "--warmup-rounds", "2000")
                .redirectOutput(tmp.resolve("serve.log").toFile()).start();
        try {
            HttpClient http = HttpClient.newHttpClient();
            URI ready = URI.create("http://127.0.0.1:" + httpPort + "/health/ready");
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() ->
                    http.send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
            // Every answer path of small frames: STATS and COUNT (answered in place), UPPER (a
            // transform in place), PING (echo); coalesced into shared write buffers.
            String mix = "stats:64@2,upper:256@2,count:512,ping:16";
            // Runs of a fixed number of frames, not of a fixed time: a busy machine makes them
            // slower, never smaller. The JIT may finish late on a busy machine too, so the
            // measurement is repeated, with more warm-up before each, and the least taken (as
            // testing/SteadyState does): code that allocates in steady state allocates every time.
            runLoad(framePort, mix, 300_000, "warm-up");
            double best = Double.MAX_VALUE;
            String seen = "";
            for (int attempt = 1; attempt <= 3 && best > BUDGET_BYTES_PER_FRAME; attempt++) {
                double[] before = scrape(http, httpPort);
                runLoad(framePort, mix, MEASURED_FRAMES, "measured-" + attempt);
                double[] after = scrape(http, httpPort);
                double frames = after[1] - before[1];
                double bytes = after[0] - before[0];
                assertThat(frames).as("frames completed in measured run %d", attempt).isGreaterThanOrEqualTo(MEASURED_FRAMES);
                best = Math.min(best, bytes / frames);
                seen += String.format(" %,.0f B over %,.0f frames;", bytes, frames);
            }
            assertThat(best).as("least heap bytes per frame of the measured runs:%s", seen)
                    .isLessThanOrEqualTo(BUDGET_BYTES_PER_FRAME);
        } finally {
            server.destroy();
            if (!server.waitFor(30, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
    }

    private void runLoad(int port, String mix, long frames, String name) throws Exception {
        Path log = tmp.resolve(name + ".log");
        Process load = FramepipeProcesses.framepipe("load", "--port", "" + port, "--mix", mix, "--connections", "4",
                "--depth", "64", "--frames", "" + frames, "--warmup", "0s", "--verify", "ids")
                .redirectOutput(log.toFile()).start();
        assertThat(load.waitFor(120, TimeUnit.SECONDS)).as("load run finished").isTrue();
        assertThat(load.exitValue()).as("load exit status; log:%n%s", Files.readString(log)).isZero();
    }

    /** {heap bytes allocated by the pipeline's threads, frames completed}, summed over labels. */
    private static double[] scrape(HttpClient http, int httpPort) throws Exception {
        String text = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        double heap = 0;
        double frames = 0;
        for (String line : text.split("\n")) {
            if (line.startsWith("pipeline_heap_allocated_bytes_total")) {
                heap += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            } else if (line.startsWith("pipeline_frames_completed_total")) {
                frames += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        assertThat(frames).as("frames completed, from /metrics").isPositive();
        return new double[] {heap, frames};
    }
}
