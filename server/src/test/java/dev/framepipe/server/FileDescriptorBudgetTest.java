package dev.framepipe.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.framepipe.config.ConfigException;
import dev.framepipe.config.FramepipeConfig;
import dev.framepipe.config.Setting;
import dev.framepipe.testing.FramepipeProcesses;
import dev.framepipe.testing.TestServers;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Start-up refuses connection caps that do not fit the process's open-file limit. */
class FileDescriptorBudgetTest {

    @TempDir
    Path tmp;

    @Test
    void theCapsAndTheMarginMustFitTheLimit() {
        FramepipeConfig config = TestServers.config(Map.of(Setting.MAX_CONNECTIONS, "1000",
                Setting.HTTP_MAX_CONNECTIONS, "50", Setting.IO_THREADS, "4"));
        long margin = FileDescriptorBudget.BASE + 4L * FileDescriptorBudget.PER_IO_THREAD;
        assertThat(FileDescriptorBudget.margin(config)).isEqualTo(margin);
        long needed = 1000 + 50 + margin;
        assertThat(FileDescriptorBudget.required(config)).isEqualTo(needed);

        FileDescriptorBudget.check(config, needed); // exactly enough
        FileDescriptorBudget.check(config, -1); // unknown: not checked
        assertThatThrownBy(() -> FileDescriptorBudget.check(config, needed - 1))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("open-file limit of this process is " + (needed - 1))
                .hasMessageContaining("max-connections (1000)")
                .hasMessageContaining("http-max-connections (50)")
                .hasMessageContaining("need " + needed)
                .hasMessageContaining("ulimit -n");
    }

    @Test
    void theDefaultsNeedAboutTenThousandDescriptorsAndThisJvmHasThem() {
        FramepipeConfig defaults = FramepipeConfig.defaults();
        long needed = FileDescriptorBudget.required(defaults);
        assertThat(needed).isBetween(10_100L + FileDescriptorBudget.BASE, 10_100L + FileDescriptorBudget.BASE + 3L * 256);
        long limit = FileDescriptorBudget.processLimit();
        assertThat(limit).as("a Linux JVM reports its limit").isPositive();
        // Every test server starts through the check: the suite needs a limit this high.
        assertThat(limit).isGreaterThanOrEqualTo(needed);
    }

    @Test
    void serveStopsWithAClearMessageWhenTheLimitIsTooLowAndStartsWhenTheCapsFit() throws Exception {
        // The JVM raises its soft limit to the hard one: ulimit -n sets both.
        Path log = tmp.resolve("refused.log");
        Process refused = underLimit(600, log, "--max-connections", "1000");
        assertThat(refused.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertThat(refused.exitValue()).as(out).isEqualTo(2);
        assertThat(out).contains("cannot start: the open-file limit of this process is 600")
                .contains("max-connections (1000)").contains("http-max-connections (100)");

        // 300 + 100 + the margin fit in 600: it starts and serves.
        int httpPort = FramepipeProcesses.freePort();
        Path okLog = tmp.resolve("ok.log");
        Process ok = underLimit(600, okLog, "--max-connections", "300", "--http-port", "" + httpPort);
        try {
            HttpClient http = HttpClient.newHttpClient();
            URI ready = URI.create("http://127.0.0.1:" + httpPort + "/health/ready");
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> http.send(
                    HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
            String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertThat(metrics).contains("process_files_max_files 600.0");
        } finally {
            ok.destroy();
            assertThat(ok.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(ok.exitValue()).as(Files.readString(okLog)).isZero();
    }

    private static Process underLimit(int limit, Path log, String... args) throws Exception {
        List<String> serveArgs = new ArrayList<>(List.of("--bind-address", "127.0.0.1", "--frame-port", "0",
                "--io-threads", "1", "--worker-parallelism", "1", "--warmup-rounds", "0"));
        serveArgs.addAll(List.of(args));
        if (!serveArgs.contains("--http-port")) {
            serveArgs.addAll(List.of("--http-port", "0"));
        }
        ProcessBuilder serve = FramepipeProcesses.framepipe("serve", serveArgs.toArray(String[]::new));
        List<String> command = new ArrayList<>(List.of("bash", "-c", "ulimit -n " + limit + " && exec \"$@\"", "bash"));
        command.addAll(serve.command());
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().clear();
        pb.environment().putAll(serve.environment());
        return pb.start();
    }
}
