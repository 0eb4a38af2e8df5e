package dev.framepipe.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Bad input to the command-line tools is a usage error (exit 2) or a one-line failure (exit 1)
 * with a message, never a stack trace.
 */
class ToolErrorsTest {

    private static String runCapturingStderr(String... args) {
        return stderrOf(() -> LoadCommand.run(args), 2);
    }

    private static String stderrOf(java.util.function.IntSupplier tool, int expectedStatus) {
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            assertThat(tool.getAsInt()).isEqualTo(expectedStatus);
        } finally {
            System.setErr(old);
        }
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void theClientRefusesANonNumberBeforeConnecting() {
        assertThat(stderrOf(() -> ClientCommand.run(new String[] {"--port", "1", "stats", "1", "abc"}), 2))
                .contains("not a number").contains("abc").doesNotContain("\tat ");
    }

    @Test
    void aServerThatIsNotThereIsAOneLineFailure() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort(); // closed again: nothing listens there
        }
        String err = stderrOf(() -> ClientCommand.run(new String[] {"--port", "" + port, "ping", "x"}), 1);
        assertThat(err).contains("framepipe client: cannot connect to 127.0.0.1:" + port + ": connection refused")
                .doesNotContain("\tat ");
    }

    @Test
    void aServerThatNeverAnswersFailsAfterTheTimeoutNamingIt() throws Exception {
        try (java.net.ServerSocket silent =
                new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Thread reader = Thread.ofPlatform().daemon().start(() -> {
                try (java.net.Socket s = silent.accept()) {
                    s.getInputStream().transferTo(java.io.OutputStream.nullOutputStream()); // reads, never answers
                } catch (java.io.IOException e) {
                    // closed
                }
            });
            long start = System.nanoTime();
            String err = stderrOf(() -> ClientCommand.run(new String[] {"--port", "" + silent.getLocalPort(),
                    "--timeout", "500ms", "upper", "x"}), 1);
            long tookMillis = (System.nanoTime() - start) / 1_000_000;
            assertThat(err)
                    .contains("framepipe client: no answer from 127.0.0.1:" + silent.getLocalPort() + " within 500ms")
                    .doesNotContain("\tat ");
            assertThat(tookMillis).as("gave up at its timeout, not after 30 s").isLessThan(15_000);
            reader.join(10_000);
        }
    }

    @Test
    void anUnreadableTimeoutIsAUsageError() {
        assertThat(stderrOf(() -> ClientCommand.run(new String[] {"--port", "1", "--timeout", "soon", "ping"}), 2))
                .contains("--timeout").contains("soon").doesNotContain("\tat ");
    }

    @Test
    void theLoadGeneratorNamesTheServerThatRefusedIt() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        int p = port;
        String err = stderrOf(() -> LoadCommand.run(new String[] {"--port", "" + p, "--duration", "1s", "--warmup", "0",
                "--no-hiccups"}), 1);
        assertThat(err).contains("framepipe load: connection to 127.0.0.1:" + port + " refused")
                .doesNotContain("\tat ").doesNotContain("error(-111)").doesNotContain("finishConnect");
    }

    @Test
    void noConnectionsOrNoDepthIsAUsageErrorNotARunOfNothing() {
        long start = System.nanoTime();
        assertThat(runCapturingStderr("-c", "0", "--port", "1", "--duration", "30s"))
                .contains("--connections must be at least 1").contains("Usage:");
        assertThat(runCapturingStderr("--depth", "0", "--port", "1")).contains("--depth must be at least 1");
        assertThat(runCapturingStderr("--threads", "0", "--port", "1")).contains("--threads must be at least 1");
        assertThat(runCapturingStderr("--rate", "-5", "--port", "1")).contains("--rate must be 0");
        assertThat(runCapturingStderr("--duration", "0", "--port", "1")).contains("--duration must be more than 0");
        assertThat(java.time.Duration.ofNanos(System.nanoTime() - start)).isLessThan(java.time.Duration.ofSeconds(10));
    }

    @Test
    void durationsUseTheServicesUnitsIncludingChains() {
        assertThat(LoadCommand.parseDuration("--duration", "5m30s")).isEqualTo(java.time.Duration.ofSeconds(330));
        assertThat(LoadCommand.parseDuration("--duration", "1h")).isEqualTo(java.time.Duration.ofSeconds(3_600));
        assertThat(LoadCommand.parseDuration("--warmup", "250ms")).isEqualTo(java.time.Duration.ofMillis(250));
        assertThat(runCapturingStderr("--duration", "10", "--port", "1"))
                .contains("bad option: --duration '10' has no unit").contains("10s");
        assertThat(runCapturingStderr("--warmup", "3MiB", "--port", "1"))
                .contains("--warmup '3MiB'").contains("size unit, not a duration unit");
    }

    @Test
    void theLoadGeneratorsExitStatusTellsWrongAnswersFromLostOnes() {
        assertThat(LoadCommand.exitStatus(result(0, 0, 0))).isZero();
        assertThat(LoadCommand.exitStatus(result(0, 29, 8))).isEqualTo(3);
        assertThat(LoadCommand.exitStatus(result(0, 0, 1))).isEqualTo(3); // closed with nothing in flight
        assertThat(LoadCommand.exitStatus(result(2, 29, 8))).isEqualTo(1); // wrong answers outrank lost ones
    }

    private static dev.framepipe.loadgen.LoadResult result(long mismatches, long lost, int closed) {
        return new dev.framepipe.loadgen.LoadResult("127.0.0.1:7070", "ping:0", 8, 16, 0, 1, 100, 100, 0, 0, 1, 1, 1, 1,
                1, 0, java.util.Map.of(), mismatches, java.util.List.of(), Double.NaN, Double.NaN, 129 + lost, 129, lost,
                closed, null, "netty", Double.NaN, 0.5, java.util.List.of());
    }

    @Test
    void everyToolPrintsItsVersion() {
        PrintStream old = System.out;
        for (java.util.function.IntSupplier tool : java.util.List.<java.util.function.IntSupplier>of(
                () -> ClientCommand.run(new String[] {"-V"}), () -> LoadCommand.run(new String[] {"--version"}),
                () -> BaselineCommand.run(new String[] {"-V"}), () -> SoakCommand.run(new String[] {"-V"}))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            try {
                assertThat(tool.getAsInt()).isZero();
            } finally {
                System.setOut(old);
            }
            assertThat(out.toString(StandardCharsets.UTF_8).lines().toList()).containsExactly(
                    "framepipe " + dev.framepipe.BuildInfo.current().version(),
                    "commit " + dev.framepipe.BuildInfo.current().revision(),
                    out.toString(StandardCharsets.UTF_8).lines().toList().get(2));
        }
    }

    @Test
    void theHiccupMeterIsOnUnlessTheLoadCommandIsToldNoHiccups() {
        LoadCommand on = new LoadCommand();
        new picocli.CommandLine(on).parseArgs("--port", "1");
        LoadCommand off = new LoadCommand();
        new picocli.CommandLine(off).parseArgs("--port", "1", "--no-hiccups");
        assertThat(on.hiccups).isTrue();
        assertThat(off.hiccups).isFalse();
    }

    @Test
    void anUnknownOpInTheMixIsAUsageErrorNamingIt() {
        assertThat(runCapturingStderr("--mix", "nope:1", "--port", "1"))
                .contains("bad option: unknown op 'nope'").contains("Usage:").doesNotContain("\tat ");
    }

    @Test
    void anUnreadableDurationIsAUsageError() {
        assertThat(runCapturingStderr("--duration", "soon", "--port", "1"))
                .contains("bad option").contains("soon").doesNotContain("\tat ");
    }
}
