package dev.framepipe.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A bad option of {@code framepipe load} is a usage error with a message, not a stack trace. */
class LoadCommandTest {

    private static String runCapturingStderr(String... args) {
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            assertThat(LoadCommand.run(args)).isEqualTo(2);
        } finally {
            System.setErr(old);
        }
        return err.toString(StandardCharsets.UTF_8);
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
