package dev.framepipe.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.config.Setting;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code framepipe config check}: every setting, its value and its source; a bad one exits 2. */
class ConfigCommandTest {

    @TempDir
    Path tmp;

    private record Run(int status, String out, String err) {
        /** The table's row of {@code s}: value and source. */
        String[] row(Setting s) {
            Matcher m = Pattern.compile("(?m)^" + Pattern.quote(s.key()) + " +(\\S.*?)  +(\\S.*)$").matcher(out);
            assertThat(m.find()).as("row of %s in:%n%s", s.key(), out).isTrue();
            return new String[] {m.group(1).trim(), m.group(2).trim()};
        }
    }

    private static Run run(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = ConfigCommand.run(args, env, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void everySettingIsPrintedWithItsValueAndWhereItCameFrom() throws Exception {
        Path file = Files.writeString(tmp.resolve("f.yaml"), "frame-port: 7171\ndrain-timeout: 20s\n");
        Run r = run(Map.of("FRAMEPIPE_DRAIN_TIMEOUT", "15s", "FRAMEPIPE_RING_CAPACITY", "64"),
                "check", "--config", file.toString(), "--ring-capacity", "128", "--log-format", "json");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("configuration file: " + file.toAbsolutePath() + " (given with --config)")
                .contains("configuration OK");
        assertThat(r.row(Setting.FRAME_PORT)).containsExactly("7171", "file " + file.toAbsolutePath());
        assertThat(r.row(Setting.DRAIN_TIMEOUT)).containsExactly("15s", "environment variable FRAMEPIPE_DRAIN_TIMEOUT");
        assertThat(r.row(Setting.RING_CAPACITY)).containsExactly("128", "flag --ring-capacity");
        assertThat(r.row(Setting.LOG_FORMAT)).containsExactly("json", "flag --log-format");
        assertThat(r.row(Setting.MAX_FRAME_BYTES)).containsExactly("16MiB", "default");
        for (Setting s : Setting.values()) {
            r.row(s);
        }
    }

    @Test
    void aBadSettingExitsTwoNamingItItsValueAndSource() throws Exception {
        Path file = Files.writeString(tmp.resolve("f.yaml"), "drain-timeout: 5\n");
        Run r = run(Map.of(), "check", "--config", file.toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("'drain-timeout'").contains("has no unit").contains(file.toAbsolutePath().toString());
        assertThat(r.out()).doesNotContain("configuration OK");
    }

    @Test
    void aDirectoryGivenAsTheFileIsNamedAsOne() throws Exception {
        Run r = run(Map.of(), "check", "--config", tmp.toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("is a directory").doesNotContain("does not exist");
    }

    @Test
    void tlsFilesThatCannotBeReadAreAnError() throws Exception {
        Path cert = Files.writeString(tmp.resolve("cert.pem"), "not a certificate");
        Path key = Files.writeString(tmp.resolve("key.pem"), "not a key");
        Run r = run(Map.of(), "check", "--tls-cert-chain", cert.toString(), "--tls-key", key.toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("TLS").contains(cert.toString());
    }

    @Test
    void aMissingOrUnknownSubcommandIsAUsageError() {
        assertThat(run(Map.of()).status()).isEqualTo(2);
        Run unknown = run(Map.of(), "show");
        assertThat(unknown.status()).isEqualTo(2);
        assertThat(unknown.err()).contains("unknown subcommand 'show'").contains("config check");
        assertThat(run(Map.of(), "check", "--frame-prot", "1").status()).isEqualTo(2);
    }

    @Test
    void versionAndHelp() {
        Run version = run(Map.of(), "check", "-V");
        assertThat(version.status()).isZero();
        assertThat(version.out()).startsWith("framepipe ").contains("commit ");
        Run help = run(Map.of(), "check", "--help");
        assertThat(help.status()).isZero();
        assertThat(help.out()).contains("--config", "--log-level", "--log-format", "--drain-timeout");
    }
}
