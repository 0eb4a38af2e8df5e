package dev.framepipe;

import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.testing.ProjectFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The build wrote the project's version and the commit it was built from. */
class BuildInfoTest {

    @Test
    void theVersionIsTheProjects() throws Exception {
        String pom = Files.readString(ProjectFiles.path("pom.xml"));
        Matcher m = Pattern.compile("<artifactId>framepipe-parent</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
        assertThat(m.find()).isTrue();
        assertThat(BuildInfo.current().version()).isEqualTo(m.group(1));
    }

    @Test
    void theRevisionIsTheCommitOfTheWorkTreeOrUnknownWithoutGit() throws Exception {
        String head;
        try {
            Process git = new ProcessBuilder("git", "rev-parse", "--verify", "HEAD")
                    .directory(ProjectFiles.root().toFile()).redirectErrorStream(true).start();
            head = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            assertThat(git.waitFor(30, TimeUnit.SECONDS)).isTrue();
            if (git.exitValue() != 0) {
                head = BuildInfo.UNKNOWN; // a source copy without .git
            }
        } catch (java.io.IOException noGit) {
            head = BuildInfo.UNKNOWN;
        }
        assertThat(BuildInfo.current().revision()).isEqualTo(head);
        assertThat(BuildInfo.current().shortRevision()).isEqualTo(head.equals(BuildInfo.UNKNOWN) ? head : head.substring(0, 12));
    }

    @Test
    void anUnfilledValueIsUnknownNotAVersion() {
        BuildInfo loaded = BuildInfo.load();
        assertThat(loaded.version()).doesNotContain("${");
        assertThat(loaded.revision()).doesNotContain("${");
        assertThat(new BuildInfo("1.2.3", BuildInfo.UNKNOWN).oneLine()).startsWith("framepipe 1.2.3 (commit unknown, Java ");
    }
}
