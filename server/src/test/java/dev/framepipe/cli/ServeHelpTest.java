package dev.framepipe.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code serve --help} documents every setting, and picocli finds nothing to warn about in it. */
class ServeHelpTest {

    @Test
    void serveHelpPrintsEverySettingWithoutPicocliFormatWarnings() {
        PrintStream oldOut = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        String err;
        try {
            PrintStream oldErr = System.err;
            ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
            System.setErr(new PrintStream(errBytes, true, StandardCharsets.UTF_8));
            try {
                assertThat(ServeCommand.run(new String[] {"--help"})).isZero();
            } finally {
                System.setErr(oldErr);
            }
            err = errBytes.toString(StandardCharsets.UTF_8);
        } finally {
            System.setOut(oldOut);
        }
        String help = out.toString(StandardCharsets.UTF_8);
        assertThat(err).doesNotContain("picocli WARN");
        assertThat(help).doesNotContain("picocli WARN").contains("--max-connection-age").contains("+-10%");
        for (dev.framepipe.config.Setting s : dev.framepipe.config.Setting.values()) {
            assertThat(help).contains("--" + s.key());
        }
    }

}
