package dev.framepipe.cli;

import dev.framepipe.testing.ProjectFiles;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bin/framepipe finds a JDK 25 by itself, and says clearly when there is none. */
class LauncherScriptTest {

    @TempDir
    Path tmp;

    private Process launcher(String jvmDirs, String javaHome, String... args) throws Exception {
        String[] cmd = new String[args.length + 2];
        cmd[0] = "bash";
        cmd[1] = ProjectFiles.path("bin", "framepipe").toString();
        System.arraycopy(args, 0, cmd, 2, args.length);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("FRAMEPIPE_JVM_DIRS", jvmDirs);
        pb.environment().remove("FRAMEPIPE_JAVA_HOME");
        if (javaHome == null) {
            pb.environment().remove("JAVA_HOME");
        } else {
            pb.environment().put("JAVA_HOME", javaHome);
        }
        pb.environment().put("PATH", "/usr/bin:/bin"); // the default java here is 17
        return pb.start();
    }

    @Test
    void withNoJdk25AnywhereItFailsWithAClearMessage() throws Exception {
        Path old = tmp.resolve("jdk-17");
        Files.createDirectories(old.resolve("bin"));
        Process p = launcher(tmp.toString(), "/usr/lib/jvm/java-17-openjdk-amd64", "java-home");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(3);
        assertThat(out).contains("no JDK 25 or newer found");
    }

    @Test
    void itPicksTheJdk25ThisTestRunsOnEvenWhenJavaHomeIsOlder() throws Exception {
        Path jdk = Path.of(System.getProperty("java.home"));
        Process p = launcher(jdk.getParent().toString(), "/usr/lib/jvm/java-17-openjdk-amd64", "java-home");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(Runtime.version().feature()).isGreaterThanOrEqualTo(25);
        assertThat(Path.of(out).toRealPath()).isEqualTo(jdk.toRealPath());
    }
}
