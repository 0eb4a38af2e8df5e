package dev.framepipe.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which configuration file a command reads: flag, FRAMEPIPE_CONFIG, the installation's, none. */
class ConfigFileTest {

    @TempDir
    Path tmp;

    private Path installation() throws Exception {
        Path home = tmp.resolve("install");
        Files.createDirectories(home.resolve("config"));
        Files.writeString(home.resolve("config/framepipe.yaml"), "frame-port: 7171\n");
        return home;
    }

    @Test
    void theInstallationsFileIsTheDefaultWhereverTheCommandStarts() throws Exception {
        Path home = installation();
        ConfigFile f = ConfigFile.locate(null, Map.of(), home);
        assertThat(f.origin()).isEqualTo(ConfigFile.Origin.INSTALLATION);
        assertThat(f.path()).isEqualTo(home.resolve("config/framepipe.yaml").toAbsolutePath());
        assertThat(f.describe()).contains(f.path().toString()).contains("installation's default");
        // the working directory plays no part: a relative config/framepipe.yaml is never read
        assertThat(f.path()).isAbsolute();
    }

    @Test
    void aFlagWinsOverTheEnvironmentWhichWinsOverTheInstallation() throws Exception {
        Path home = installation();
        Path byEnv = Files.writeString(tmp.resolve("env.yaml"), "");
        Path byFlag = Files.writeString(tmp.resolve("flag.yaml"), "");
        ConfigFile env = ConfigFile.locate(null, Map.of("FRAMEPIPE_CONFIG", byEnv.toString()), home);
        assertThat(env.origin()).isEqualTo(ConfigFile.Origin.ENVIRONMENT);
        assertThat(env.path()).isEqualTo(byEnv);
        assertThat(env.describe()).contains("given by FRAMEPIPE_CONFIG");
        ConfigFile flag = ConfigFile.locate(byFlag, Map.of("FRAMEPIPE_CONFIG", byEnv.toString()), home);
        assertThat(flag.origin()).isEqualTo(ConfigFile.Origin.FLAG);
        assertThat(flag.path()).isEqualTo(byFlag);
        assertThat(flag.describe()).contains("given with --config");
    }

    @Test
    void noInstallationFileMeansDefaultsAndSaysWhereItLooked() {
        ConfigFile f = ConfigFile.locate(null, Map.of(), tmp);
        assertThat(f.path()).isNull();
        assertThat(f.origin()).isEqualTo(ConfigFile.Origin.NONE);
        assertThat(f.describe()).contains("no configuration file").contains(tmp.resolve("config/framepipe.yaml").toString());
        assertThat(ConfigFile.locate(null, Map.of(), null).describe()).contains("no configuration file");
    }

    @Test
    void aDirectoryOrAMissingFileIsAnErrorThatSaysWhich() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("conf"));
        assertThatThrownBy(() -> ConfigFile.locate(dir, Map.of(), null)).isInstanceOf(ConfigException.class)
                .hasMessageContaining(dir.toString()).hasMessageContaining("is a directory")
                .hasMessageContaining("--config").hasMessageContaining(dir.resolve("framepipe.yaml").toString());
        assertThatThrownBy(() -> ConfigFile.locate(null, Map.of("FRAMEPIPE_CONFIG", dir.toString()), null))
                .hasMessageContaining("is a directory").hasMessageContaining("FRAMEPIPE_CONFIG");
        Path missing = tmp.resolve("missing.yaml");
        assertThatThrownBy(() -> ConfigFile.locate(missing, Map.of(), null))
                .hasMessageContaining(missing.toString()).hasMessageContaining("does not exist");
    }

    @Test
    void theInstallationIsFramepipeHomeWhenSet() {
        String old = System.getProperty(ConfigFile.HOME_PROPERTY);
        try {
            System.setProperty(ConfigFile.HOME_PROPERTY, tmp.toString());
            assertThat(ConfigFile.installationHome()).isEqualTo(tmp.toAbsolutePath());
        } finally {
            if (old == null) {
                System.clearProperty(ConfigFile.HOME_PROPERTY);
            } else {
                System.setProperty(ConfigFile.HOME_PROPERTY, old);
            }
        }
        // tests run from a build's classes directory: no jar, so no installation of their own
        assertThat(ConfigFile.installationHome()).isNull();
    }
}
