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
        assertThat(err).contains("framepipe client:").contains("refused").doesNotContain("\tat ");
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
