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
