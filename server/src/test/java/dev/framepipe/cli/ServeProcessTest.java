package dev.framepipe.cli;

import static dev.framepipe.testing.Frames.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.framepipe.client.Response;
import dev.framepipe.protocol.ErrorCode;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.protocol.Ops;
import dev.framepipe.testing.FramepipeProcesses;
import dev.framepipe.testing.RawConnection;
import java.io.EOFException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code framepipe serve} as a real process: SIGTERM drains and exits 0; a bad setting stops start-up. */
class ServeProcessTest {

    @TempDir
    Path tmp;

    private ProcessBuilder serve(String... args) {
        return FramepipeProcesses.framepipe("serve", args);
    }

    @Test
    void sigtermWithFramesInFlightAnswersThemAllAndExitsZero() throws Exception {
        int framePort = FramepipeProcesses.freePort();
        int httpPort = FramepipeProcesses.freePort();
        Path log = tmp.resolve("serve.log");
        Process p = serve("--bind-address", "127.0.0.1", "--frame-port", "" + framePort,
                "--http-port", "" + httpPort, "--io-threads", "1", "--worker-parallelism", "2")
                .redirectOutput(log.toFile()).start();
        try {
            HttpClient http = HttpClient.newHttpClient();
            URI ready = URI.create("http://127.0.0.1:" + httpPort + "/health/ready");
            // the full warm-up: the kernels' (at most 30 s), the request path's (2 s), and the JVM's
            // start, each slower on a busy machine
            await().atMost(Duration.ofSeconds(90)).ignoreExceptions().until(() ->
                    http.send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
            int sent = 500;
            try (RawConnection c = new RawConnection(framePort)) {
                byte[] batch = new byte[0];
                for (int i = 0; i < sent; i++) {
                    batch = concat(batch, frame(Kinds.FLOATS, Ops.STATS, i, new byte[64_000]));
                }
                c.send(batch);
                assertThat(c.read().id()).isZero(); // the server is busy with them
                p.destroy(); // SIGTERM
                int normal = 1;
                boolean declined = false;
                while (true) {
                    Response r;
                    try {
                        r = c.read();
                    } catch (EOFException eof) {
                        break;
                    }
                    assertThat(declined).isFalse();
                    assertThat(r.id()).isEqualTo(normal);
                    if (r.isError()) {
                        assertThat(r.error()).isEqualTo(ErrorCode.SHUTTING_DOWN);
                        declined = true;
                    } else {
                        assertThat(r.stats().count()).isEqualTo(16_000);
                        normal++;
                    }
                }
                assertThat(normal == sent || declined).as("%d of %d answered without SHUTTING_DOWN", normal, sent).isTrue();
            }
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(Files.readString(log)).isZero();
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void aBadSettingIsRejectedAtStartUpWithAMessageNamingIt() throws Exception {
        Process p = serve("--ring-capacity", "1000").start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(2);
        assertThat(out).contains("ring-capacity").contains("power of two");
    }

    @Test
    void aBadRingSlotsPropertyStopsStartUpWithOneLineNamingIt() throws Exception {
        ProcessBuilder pb = serve();
        pb.environment().put("JAVA_TOOL_OPTIONS", "-Dframepipe.ring.slots=fast");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isEqualTo(1);
        assertThat(out).contains("framepipe serve: cannot start:")
                .contains("framepipe.ring.slots must be auto or varhandle, was 'fast'")
                .doesNotContain("ExceptionInInitializerError");
    }

    @Test
    void aBadValueInTheEnvironmentNamesTheVariable() throws Exception {
        ProcessBuilder pb = serve();
        pb.environment().put("FRAMEPIPE_IDLE_TIMEOUT", "soon");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(2);
        assertThat(out).contains("idle-timeout").contains("FRAMEPIPE_IDLE_TIMEOUT");
    }
}
