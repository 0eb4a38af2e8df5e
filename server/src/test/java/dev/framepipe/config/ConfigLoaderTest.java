package dev.framepipe.config;

import dev.framepipe.testing.ProjectFiles;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    @TempDir
    Path tmp;

    private Path yaml(String text) throws Exception {
        Path p = tmp.resolve("framepipe.yaml");
        Files.writeString(p, text);
        return p;
    }

    @Test
    void ioThreadsZeroMeansOnePerCpu() {
        assertThat(FramepipeConfig.defaultIoThreads(1)).isEqualTo(1);
        assertThat(FramepipeConfig.defaultIoThreads(2)).isEqualTo(2);
        assertThat(FramepipeConfig.defaultIoThreads(8)).isEqualTo(8);
        assertThat(FramepipeConfig.defaults().effectiveIoThreads())
                .isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(ConfigLoader.fromValues(Map.of(Setting.IO_THREADS, "3")).effectiveIoThreads()).isEqualTo(3);
    }

    @Test
    void theShippedFileListsEverySettingWithTheDefaultTheCodeUses() throws Exception {
        Path shipped = ProjectFiles.path("config", "framepipe.yaml");
        String text = Files.readString(shipped);
        Pattern line = Pattern.compile("^([a-z-]+):\\s*(\\S+)\\s+#\\s*(.+)$", Pattern.MULTILINE);
        Map<String, String> found = new LinkedHashMap<>();
        Matcher m = line.matcher(text);
        while (m.find()) {
            found.put(m.group(1), m.group(2));
            assertThat(m.group(3)).as("comment of %s", m.group(1)).isNotBlank();
        }
        for (Setting s : Setting.values()) {
            assertThat(found).as("config/framepipe.yaml").containsEntry(s.key(), s.defaultValue());
        }
        assertThat(found).hasSize(Setting.values().length);
        assertThat(ConfigLoader.load(shipped, Map.of(), Map.of())).isEqualTo(FramepipeConfig.defaults());
    }

    @Test
    void environmentOverridesTheFileAndFlagsOverrideTheEnvironment() throws Exception {
        Path file = yaml("frame-port: 1000\nhttp-port: 2000\nring-capacity: 64\n");
        FramepipeConfig c = ConfigLoader.load(file,
                Map.of("FRAMEPIPE_HTTP_PORT", "3000", "FRAMEPIPE_RING_CAPACITY", "128"),
                Map.of("ring-capacity", "256"));
        assertThat(c.framePort()).isEqualTo(1000);
        assertThat(c.httpPort()).isEqualTo(3000);
        assertThat(c.ringCapacity()).isEqualTo(256);
        assertThat(c.maxInFlight()).isEqualTo(1024);
    }

    @Test
    void sizesAndDurationsTakeUnits() throws Exception {
        FramepipeConfig c = ConfigLoader.load(yaml("max-frame-bytes: 4MiB\nidle-timeout: 250ms\ndrain-timeout: 2min\n"
                + "write-buffer-high-water: 64KiB\nwrite-buffer-low-water: 1000B\nclose-linger: 1h\n"
                + "max-connection-age: 5m30s\ndirect-memory-budget: 1GiB\nslow-frame-grace: 3 s\n"), Map.of(), Map.of());
        // expected values written out, not derived from the unit table
        assertThat(c.maxFrameBytes()).isEqualTo(4_194_304);
        assertThat(c.idleTimeout()).isEqualTo(Duration.ofMillis(250));
        assertThat(c.drainTimeout()).isEqualTo(Duration.ofSeconds(120));
        assertThat(c.writeBufferHighWater()).isEqualTo(65_536);
        assertThat(c.writeBufferLowWater()).isEqualTo(1000);
        assertThat(c.closeLinger()).isEqualTo(Duration.ofSeconds(3600));
        assertThat(c.maxConnectionAge()).isEqualTo(Duration.ofSeconds(330));
        assertThat(c.directMemoryBudget()).isEqualTo(1_073_741_824L);
        assertThat(c.slowFrameGrace()).isEqualTo(Duration.ofSeconds(3));
    }

    @Test
    void aBareNumberIsRefusedNamingTheSettingExceptZero() throws Exception {
        // YAML reads `drain-timeout: 5` as the number 5: seconds or minutes? Neither: an error.
        assertThatThrownBy(() -> ConfigLoader.load(yaml("drain-timeout: 5\n"), Map.of(), Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("'drain-timeout'")
                .hasMessageContaining("framepipe.yaml").hasMessageContaining("has no unit").hasMessageContaining("5s");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("FRAMEPIPE_MAX_FRAME_BYTES", "1048576"), Map.of()))
                .hasMessageContaining("'max-frame-bytes'").hasMessageContaining("FRAMEPIPE_MAX_FRAME_BYTES")
                .hasMessageContaining("has no unit").hasMessageContaining("1048576B");
        // 0 is zero in every unit: "never" / "off" / "automatic" where the setting says so
        FramepipeConfig c = ConfigLoader.load(yaml("idle-timeout: 0\nmax-connection-age: 0\nslow-frame-min-rate: 0\n"
                + "direct-memory-budget: 0\ntls-reload-interval: 0\nwrite-buffer-low-water: 0\n"), Map.of(), Map.of());
        assertThat(c.idleTimeout()).isZero();
        assertThat(c.maxConnectionAge()).isZero();
        assertThat(c.slowFrameMinRate()).isZero();
        assertThat(c.directMemoryBudget()).isZero();
        assertThat(c.tls().reloadInterval()).isZero();
        assertThat(c.writeBufferLowWater()).isZero();
    }

    @Test
    void inlineMaxBytesIsAtMostTheBytesOfAFrameThatIsSplitAcrossTheWorkers() {
        assertThat(ConfigLoader.load(null, Map.of(), Map.of()).inlineMaxBytes()).isEqualTo(64 * 1024);
        assertThat(ConfigLoader.load(null, Map.of(), Map.of("inline-max-bytes", "0")).inlineMaxBytes()).isZero();
        assertThat(ConfigLoader.load(null, Map.of(), Map.of("parallel-threshold-floats", "4096",
                "inline-max-bytes", "16KiB")).inlineMaxBytes()).isEqualTo(16 * 1024);
        // The I/O thread answering a frame that forks across the pool would wait for the workers.
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of("parallel-threshold-floats", "4096",
                "inline-max-bytes", "17KiB")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("'inline-max-bytes'")
                .hasMessageContaining("between 0 and 16384 bytes");
    }

    @Test
    void mIsMinutesAndNeverMebibytes() {
        assertThat(ConfigLoader.load(null, Map.of(), Map.of("idle-timeout", "5m")).idleTimeout())
                .isEqualTo(Duration.ofSeconds(300));
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of("max-frame-bytes", "16m")))
                .hasMessageContaining("'max-frame-bytes'").hasMessageContaining("--max-frame-bytes")
                .hasMessageContaining("minutes").hasMessageContaining("MiB");
        for (String decimal : new String[] {"16MB", "16M", "512k", "512KB", "1g", "1GB"}) {
            assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of("max-frame-bytes", decimal)))
                    .as(decimal).hasMessageContaining("'max-frame-bytes'").hasMessageContaining("did you mean")
                    .hasMessageMatching(".*(KiB|MiB|GiB)\\?.*");
        }
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of("drain-timeout", "30MiB")))
                .hasMessageContaining("'drain-timeout'").hasMessageContaining("size unit, not a duration unit");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of("max-frame-bytes", "1s")))
                .hasMessageContaining("duration unit, not a size unit");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of("drain-timeout", "30 seconds")))
                .hasMessageContaining("did you mean s?");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of("drain-timeout", "1.5s")))
                .hasMessageContaining("'drain-timeout'").hasMessageContaining("whole numbers");
    }

    @Test
    void aBadValueIsRejectedWithTheSettingItsValueAndItsSource() throws Exception {
        assertThatThrownBy(() -> ConfigLoader.load(yaml("ring-capacity: 1000\n"), Map.of(), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'ring-capacity'").hasMessageContaining("1000")
                .hasMessageContaining("power of two").hasMessageContaining("framepipe.yaml");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("FRAMEPIPE_FRAME_PORT", "70000"), Map.of()))
                .hasMessageContaining("'frame-port'").hasMessageContaining("FRAMEPIPE_FRAME_PORT")
                .hasMessageContaining("between 0 and 65535");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of("transport", "carrier-pigeon")))
                .hasMessageContaining("'transport'").hasMessageContaining("--transport")
                .hasMessageContaining("auto, epoll, nio");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of("max-frame-bytes", "2GiB")))
                .hasMessageContaining("'max-frame-bytes'");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of("idle-timeout", "-1s")))
                .hasMessageContaining("'idle-timeout'");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(),
                Map.of("write-buffer-low-water", "2MiB", "write-buffer-high-water", "1MiB")))
                .hasMessageContaining("'write-buffer-low-water'");
    }

    @Test
    void theHttpPortsLimitsAreReadAndCannotBeTurnedOff() throws Exception {
        FramepipeConfig c = ConfigLoader.load(yaml("http-max-connections: 20\nhttp-header-timeout: 3s\n"
                + "http-idle-timeout: 90s\nhttp-max-request-line: 2KiB\nhttp-max-header-bytes: 16KiB\n"), Map.of(), Map.of());
        assertThat(c.http()).isEqualTo(new FramepipeConfig.HttpSettings(20, Duration.ofSeconds(3), Duration.ofSeconds(90),
                2048, 16384));
        for (String key : new String[] {"http-header-timeout", "http-idle-timeout"}) {
            assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of(key, "0")))
                    .hasMessageContaining("'" + key + "'").hasMessageContaining("more than 0");
        }
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of("http-max-connections", "0")))
                .hasMessageContaining("'http-max-connections'");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of("http-max-request-line", "100B")))
                .hasMessageContaining("'http-max-request-line'").hasMessageContaining("between 256");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of("http-max-header-bytes", "2MiB")))
                .hasMessageContaining("'http-max-header-bytes'");
    }

    @Test
    void anUnknownSettingOrAnUnreadableFileIsRejected() throws Exception {
        assertThatThrownBy(() -> ConfigLoader.load(yaml("frame-prot: 7070\n"), Map.of(), Map.of()))
                .hasMessageContaining("unknown setting 'frame-prot'");
        assertThatThrownBy(() -> ConfigLoader.load(yaml("[1, 2]\n"), Map.of(), Map.of()))
                .hasMessageContaining("not a mapping");
        assertThatThrownBy(() -> ConfigLoader.load(yaml("a: [\n"), Map.of(), Map.of()))
                .hasMessageContaining("not valid YAML");
        assertThatThrownBy(() -> ConfigLoader.load(tmp.resolve("missing.yaml"), Map.of(), Map.of()))
                .hasMessageContaining("cannot read");
    }

    @Test
    void resolvedSettingsKeepEachValueAndItsSource() throws Exception {
        Path file = yaml("frame-port: 1000\nhttp-port: 2000\n");
        ConfigLoader.Resolved r = ConfigLoader.resolve(file, Map.of("FRAMEPIPE_HTTP_PORT", "3000"),
                Map.of("log-level", "debug"));
        assertThat(r.value(Setting.FRAME_PORT)).isEqualTo("1000");
        assertThat(r.source(Setting.FRAME_PORT)).isEqualTo("file " + file);
        assertThat(r.value(Setting.HTTP_PORT)).isEqualTo("3000");
        assertThat(r.source(Setting.HTTP_PORT)).isEqualTo("environment variable FRAMEPIPE_HTTP_PORT");
        assertThat(r.source(Setting.LOG_LEVEL)).isEqualTo("flag --log-level");
        assertThat(r.config().logLevel()).isEqualTo(FramepipeConfig.LogLevel.DEBUG);
        assertThat(r.value(Setting.RING_CAPACITY)).isEqualTo("1024");
        assertThat(r.source(Setting.RING_CAPACITY)).isEqualTo("default");
        assertThat(r.values()).hasSize(Setting.values().length);
    }

    @Test
    void theLogSettingsTakeTheirNamedValuesOnly() {
        FramepipeConfig json = ConfigLoader.load(null, Map.of("FRAMEPIPE_LOG_FORMAT", "json", "FRAMEPIPE_LOG_LEVEL", "WARN"),
                Map.of());
        assertThat(json.logFormat()).isEqualTo(FramepipeConfig.LogFormat.JSON);
        assertThat(json.logLevel()).isEqualTo(FramepipeConfig.LogLevel.WARN);
        assertThat(FramepipeConfig.defaults().logFormat()).isEqualTo(FramepipeConfig.LogFormat.TEXT);
        assertThat(FramepipeConfig.defaults().logLevel()).isEqualTo(FramepipeConfig.LogLevel.INFO);
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("FRAMEPIPE_LOG_FORMAT", "xml"), Map.of()))
                .hasMessageContaining("'log-format'").hasMessageContaining("FRAMEPIPE_LOG_FORMAT")
                .hasMessageContaining("text, json");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of("log-level", "verbose")))
                .hasMessageContaining("'log-level'").hasMessageContaining("error, warn, info, debug");
    }

    @Test
    void everySettingHasAnEnvironmentVariableNamedAfterIt() {
        assertThat(Setting.MAX_IN_FLIGHT.envName()).isEqualTo("FRAMEPIPE_MAX_IN_FLIGHT");
        for (Setting s : Setting.values()) {
            FramepipeConfig fromEnv = ConfigLoader.load(null, Map.of(s.envName(), s.defaultValue()), Map.of());
            assertThat(fromEnv).isEqualTo(FramepipeConfig.defaults());
        }
    }
}
