package dev.framepipe.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.testing.ProjectFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/framepipe finds a JDK 25 by itself, and says clearly when there is none. Whatever JDKs the
 * machine has: the launcher runs with a PATH of its own (the commands it uses, and a {@code java}
 * only where a test puts one) and with stand-in JDKs made here, whose {@code java} reports the
 * version a test wants.
 */
class LauncherScriptTest {

    /** Every command bin/framepipe runs on the way to {@code java-home}, looked up on this machine. */
    private static final List<String> COMMANDS = List.of("bash", "sh", "dirname", "readlink", "awk", "find", "stat",
            "cksum", "cut", "cp", "mv", "rm", "mkdir", "basename", "cat", "env", "head", "tr");

    @TempDir
    Path tmp;

    private Path path;

    @BeforeEach
    void pathWithoutJava() throws Exception {
        path = Files.createDirectories(tmp.resolve("path"));
        for (String command : COMMANDS) {
            for (String dir : List.of("/usr/bin", "/bin")) {
                Path found = Path.of(dir, command);
                if (Files.isExecutable(found)) {
                    Files.createSymbolicLink(path.resolve(command), found);
                    break;
                }
            }
        }
        assertThat(path.resolve("bash")).as("bash on this machine").exists();
    }

    /** A stand-in JDK whose java reports {@code version} as -XshowSettings:properties does. */
    private Path fakeJdk(String name, int version) throws Exception {
        Path bin = Files.createDirectories(tmp.resolve("jvms").resolve(name).resolve("bin"));
        script(bin.resolve("java"), "echo '    java.specification.version = " + version + "' >&2");
        script(bin.resolve("javac"), "exit 0");
        return bin.getParent();
    }

    private static void script(Path file, String body) throws Exception {
        Files.writeString(file, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private Process launcher(Path jvmDirs, Path javaHome) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(path.resolve("bash").toString(),
                ProjectFiles.path("bin", "framepipe").toString(), "java-home").redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().put("PATH", path.toString());
        pb.environment().put("HOME", tmp.toString());
        pb.environment().put("FRAMEPIPE_JVM_DIRS", jvmDirs.toString());
        if (javaHome != null) {
            pb.environment().put("JAVA_HOME", javaHome.toString());
        }
        return pb.start();
    }

    private static String output(Process p) throws Exception {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    /** The JDK running this test, as the only entry of a JVM directory (beside an older stand-in). */
    private Path jvmDirWithThisJdk() throws Exception {
        Path jdk = Path.of(System.getProperty("java.home"));
        assertThat(Runtime.version().feature()).isGreaterThanOrEqualTo(25);
        Path dir = fakeJdk("a-jdk-17", 17).getParent(); // sorts first: the launcher must pass over it
        Files.createSymbolicLink(dir.resolve("this-jdk"), jdk);
        return dir;
    }

    @Test
    void withNoJdk25AnywhereItFailsWithAClearMessage() throws Exception {
        Path old = fakeJdk("jdk-17", 17);
        Files.createSymbolicLink(path.resolve("java"), fakeJdk("jdk-21", 21).resolve("bin").resolve("java"));
        Process p = launcher(old.getParent(), old);
        String out = output(p);
        assertThat(p.exitValue()).as(out).isEqualTo(3);
        assertThat(out).contains("no JDK 25 or newer found");
    }

    @Test
    void itPicksTheJdk25ThisTestRunsOnEvenWhenJavaHomeIsOlder() throws Exception {
        Path jdk = Path.of(System.getProperty("java.home"));
        Process p = launcher(jvmDirWithThisJdk(), fakeJdk("jdk-17", 17));
        String out = output(p);
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(Path.of(out).toRealPath()).isEqualTo(jdk.toRealPath());
    }

    @Test
    void aJdk25OnThePathIsTakenBeforeTheJvmDirectories() throws Exception {
        Path jdk = Path.of(System.getProperty("java.home"));
        Files.createSymbolicLink(path.resolve("java"), jdk.resolve("bin").resolve("java"));
        Process p = launcher(fakeJdk("jdk-17", 17).getParent(), null);
        String out = output(p);
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(Path.of(out).toRealPath()).isEqualTo(jdk.toRealPath());
    }
}
