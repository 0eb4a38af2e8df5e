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
    void ioThreadsZeroMeansHalfTheCpusAndAtLeastOne() {
        assertThat(FramepipeConfig.defaultIoThreads(1)).isEqualTo(1);
        assertThat(FramepipeConfig.defaultIoThreads(2)).isEqualTo(1);
        assertThat(FramepipeConfig.defaultIoThreads(3)).isEqualTo(1);
        assertThat(FramepipeConfig.defaultIoThreads(8)).isEqualTo(4);
        assertThat(FramepipeConfig.defaults().effectiveIoThreads())
                .isEqualTo(Math.max(1, Runtime.getRuntime().availableProcessors() / 2));
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
        FramepipeConfig c = ConfigLoader.load(yaml("max-frame-bytes: 4MiB\nidle-timeout: 250ms\ndrain-timeout: 2m\n"
                + "write-buffer-high-water: 64KiB\nwrite-buffer-low-water: 1000\n"), Map.of(), Map.of());
        assertThat(c.maxFrameBytes()).isEqualTo(4 << 20);
        assertThat(c.idleTimeout()).isEqualTo(Duration.ofMillis(250));
        assertThat(c.drainTimeout()).isEqualTo(Duration.ofMinutes(2));
        assertThat(c.writeBufferHighWater()).isEqualTo(64 * 1024);
        assertThat(c.writeBufferLowWater()).isEqualTo(1000);
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
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of("http-max-request-line", "100")))
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
    void everySettingHasAnEnvironmentVariableNamedAfterIt() {
        assertThat(Setting.MAX_IN_FLIGHT.envName()).isEqualTo("FRAMEPIPE_MAX_IN_FLIGHT");
        for (Setting s : Setting.values()) {
            FramepipeConfig fromEnv = ConfigLoader.load(null, Map.of(s.envName(), s.defaultValue()), Map.of());
            assertThat(fromEnv).isEqualTo(FramepipeConfig.defaults());
        }
    }
}
