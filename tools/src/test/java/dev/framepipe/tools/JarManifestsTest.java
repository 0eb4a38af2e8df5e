package dev.framepipe.tools;

import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.BuildInfo;
import dev.framepipe.testing.ProjectFiles;
import java.nio.file.Path;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * Every jar the build made before this module's tests names its project, version and commit in
 * its manifest (the tools' own jar is made after its tests, by the same parent configuration).
 */
class JarManifestsTest {

    @Test
    void theProtocolClientAndServiceJarsNameTheirVersionAndCommit() throws Exception {
        BuildInfo build = BuildInfo.current(); // as the service's jar on this class path says
        for (String[] jar : new String[][] {
                {"protocol/target/framepipe-protocol.jar", "framepipe protocol"},
                {"clients/java/target/framepipe-client.jar", "framepipe client"},
                {"server/target/framepipe.jar", "framepipe server"}}) {
            Path path = ProjectFiles.path(jar[0]);
            assertThat(path).as("%s (built by the reactor before this module's tests)", jar[0]).exists();
            try (JarFile f = new JarFile(path.toFile())) {
                Attributes main = f.getManifest().getMainAttributes();
                assertThat(main.getValue("Implementation-Title")).as(jar[0]).isEqualTo(jar[1]);
                assertThat(main.getValue("Implementation-Version")).as(jar[0]).isEqualTo(build.version());
                assertThat(main.getValue("SCM-Revision")).as(jar[0]).isEqualTo(build.revision());
            }
        }
    }
}
