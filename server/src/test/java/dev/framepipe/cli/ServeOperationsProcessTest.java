package dev.framepipe.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.framepipe.BuildInfo;
import dev.framepipe.testing.FramepipeProcesses;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code framepipe serve} as operators meet it, as a real process: it reads its installation's
 * configuration file wherever it is started from and logs which; JSON logs are one object per
 * line (every line parses, with Jackson and with jq); a port in use fails before the warm-up;
 * {@code --version} and {@code -V}.
 */
class ServeOperationsProcessTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    /** {@code framepipe ARGS} with the installation at {@code home}, started in {@code dir}. */
    private static ProcessBuilder framepipe(Path home, Path dir, String command, String... args) {
        ProcessBuilder pb = FramepipeProcesses.framepipe(command, args);
        List<String> cmd = new ArrayList<>(pb.command());
        cmd.add(1, "-Dframepipe.home=" + home);
        pb.command(cmd);
        pb.redirectErrorStream(false);
        pb.directory(dir.toFile());
        return pb;
    }

    @Test
    void startedElsewhereItReadsTheInstallationsFileLogsItAndWritesJsonLines() throws Exception {
        int httpPort = FramepipeProcesses.freePort();
        Path home = tmp.resolve("install");
        Files.createDirectories(home.resolve("config"));
        Path installed = Files.writeString(home.resolve("config/framepipe.yaml"), String.join("\n",
                "bind-address: 127.0.0.1", "frame-port: 0", "http-port: " + httpPort, "io-threads: 1",
                "worker-parallelism: 1", "warmup-rounds: 200", "log-format: json", ""));
        // the working directory has a config/framepipe.yaml too, which must not be read
        Path elsewhere = tmp.resolve("elsewhere");
        Files.createDirectories(elsewhere.resolve("config"));
        Files.writeString(elsewhere.resolve("config/framepipe.yaml"), "ring-capacity: 3\n");
        Path out = tmp.resolve("stdout.log");
        Path err = tmp.resolve("stderr.log");
        Process p = framepipe(home, elsewhere, "serve").redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            HttpClient http = HttpClient.newHttpClient();
            URI ready = URI.create("http://127.0.0.1:" + httpPort + "/health/ready");
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() ->
                    http.send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
            p.destroy(); // SIGTERM: drain, stop, exit 0
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(Files.readString(err)).isZero();
        } finally {
            p.destroyForcibly();
        }
        List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
        assertThat(lines).hasSizeGreaterThanOrEqualTo(4);
        List<JsonNode> records = new ArrayList<>();
        for (String line : lines) {
            JsonNode node = JSON.readTree(line); // every line of standard output is one JSON object
            assertThat(node.isObject()).as(line).isTrue();
            for (String field : List.of("timestamp", "level", "logger", "thread", "message")) {
                assertThat(node.hasNonNull(field)).as("%s in %s", field, line).isTrue();
            }
            records.add(node);
        }
        assertThat(records.getFirst().get("message").asText())
                .contains(BuildInfo.current().version())
                .contains("configuration: " + installed.toAbsolutePath() + " (the installation's default)");
        assertThat(records).anySatisfy(r -> assertThat(r.get("message").asText()).startsWith("kernels warmed up: 200 rounds"));
        assertThat(records).anySatisfy(r -> assertThat(r.get("message").asText()).startsWith("framepipe ready: frames on "));
        assertThat(records.getLast().get("message").asText()).isEqualTo("framepipe: stopped");
        jqAccepts(out);
    }

    /** jq (the machines' own JSON tool) reads the file as a stream of objects, one a line. */
    private void jqAccepts(Path file) throws IOException, InterruptedException {
        Process jq;
        try {
            jq = new ProcessBuilder("jq", "-c", "-e", "select(type == \"object\" and has(\"level\")) | .level")
                    .redirectInput(file.toFile()).redirectErrorStream(true).start();
        } catch (IOException noJq) {
            System.out.println("jq is not installed: the JSON lines were checked with Jackson only");
            return;
        }
        String output = new String(jq.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(jq.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(jq.exitValue()).as(output).isZero();
        assertThat(output.lines().count()).isEqualTo(Files.readAllLines(file).size());
    }

    @Test
    void aFramePortInUseFailsBeforeTheWarmUpNamingIt() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            Path out = tmp.resolve("out.log");
            Process p = framepipe(tmp, tmp, "serve", "--bind-address", "127.0.0.1",
                    "--frame-port", "" + taken.getLocalPort(), "--http-port", "0")
                    .redirectErrorStream(true).redirectOutput(out.toFile()).start();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            String log = Files.readString(out);
            assertThat(p.exitValue()).as(log).isEqualTo(1);
            assertThat(log).contains("cannot start: cannot listen on 127.0.0.1:" + taken.getLocalPort() + " (frame port)")
                    .contains("in use").doesNotContain("warming up").doesNotContain("error(-98)")
                    .contains("no configuration file (none at " + tmp.resolve("config/framepipe.yaml"));
        }
    }

    @Test
    void versionOnTheServiceItsCommandsAndInTheManifestOfItsBuild() throws Exception {
        for (String[] args : List.of(new String[] {"--version"}, new String[] {"-V"}, new String[] {"serve", "-V"},
                new String[] {"serve", "--version"}, new String[] {"config", "check", "-V"})) {
            ProcessBuilder pb = FramepipeProcesses.framepipe("serve");
            List<String> cmd = new ArrayList<>(pb.command());
            cmd.removeLast(); // "serve": the arguments below replace it
            cmd.addAll(List.of(args));
            Process p = pb.command(cmd).redirectErrorStream(false).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(String.join(" ", args)).isZero();
            assertThat(out.lines().toList()).as(String.join(" ", args)).containsExactly(
                    "framepipe " + BuildInfo.current().version(),
                    "commit " + BuildInfo.current().revision(),
                    out.lines().toList().get(2));
            assertThat(out.lines().toList().get(2)).startsWith("java " + System.getProperty("java.version"));
        }
    }
}
