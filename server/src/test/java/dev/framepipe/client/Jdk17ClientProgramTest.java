package dev.framepipe.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.framepipe.config.Setting;
import dev.framepipe.server.FramepipeServer;
import dev.framepipe.testing.ProjectFiles;
import dev.framepipe.testing.TestPki;
import dev.framepipe.testing.TestServers;
import io.netty.pkitesting.X509Bundle;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client as another project gets it: a small program compiled by a JDK 17 javac against
 * {@code clients/java/target/framepipe-client.jar} and the client's declared runtime dependencies
 * alone ({@code clients/java/target/lib}, which the client's build fills, optional ones left
 * out), then run on JDK 17 against a real server: STATS, UPPER and PING, over plain TCP and TLS.
 * Without the optional jars it also proves the fallbacks: the NIO transport and the JDK's TLS.
 *
 * <p>The JDK 17 is {@code $FRAMEPIPE_JDK17} when set, else the first JDK 17 under
 * {@code /usr/lib/jvm}. None found is a failure, not a skip: this test is the only proof that
 * the client runs where it says it does.
 */
class Jdk17ClientProgramTest {

    /** What an application depending on dev.framepipe:framepipe-client gets at run time. */
    private static final List<String> DECLARED_RUNTIME = List.of("framepipe-protocol", "netty-buffer",
            "netty-codec-base", "netty-common", "netty-handler", "netty-resolver", "netty-transport",
            "netty-transport-native-unix-common");

    private static final String PROGRAM = """
            import dev.framepipe.client.ClientEventLoops;
            import dev.framepipe.client.ClientOptions;
            import dev.framepipe.client.ClientTls;
            import dev.framepipe.client.FramepipeClient;
            import dev.framepipe.client.ReconnectingClient;
            import dev.framepipe.client.Request;
            import dev.framepipe.client.Response;
            import java.nio.charset.StandardCharsets;
            import java.nio.file.Path;
            import java.time.Duration;

            public class ClientProgram {
                public static void main(String[] args) throws Exception {
                    String host = args[0];
                    int port = Integer.parseInt(args[1]);
                    int tlsPort = Integer.parseInt(args[2]);
                    ClientTls tls = ClientTls.trusting(Path.of(args[3]));
                    System.out.println("java " + Runtime.version().feature());
                    System.out.println("transport " + ClientEventLoops.transport());
                    System.out.println("tls provider " + tls.effectiveProvider());
                    try (FramepipeClient c = FramepipeClient.connect(host, port)) {
                        Response.Stats s = c.stats(1f, 2f, 3f, 4f).get().stats();
                        System.out.println("stats " + s.count() + " " + s.sum() + " " + s.min() + " " + s.max()
                                + " " + s.mean());
                        System.out.println("upper " + c.upper("stra\\u00dfe").get().text());
                        byte[] echo = c.ping("hello".getBytes(StandardCharsets.UTF_8)).get().payload();
                        System.out.println("ping " + new String(echo, StandardCharsets.UTF_8));
                    }
                    ClientOptions options = ClientOptions.builder().tls(tls)
                            .requestTimeout(Duration.ofSeconds(20)).build();
                    try (FramepipeClient c = FramepipeClient.connect(host, tlsPort, options)) {
                        System.out.println("tls upper " + c.send(Request.upper("over tls")).get().text());
                    }
                    try (ReconnectingClient r = ReconnectingClient.connect(host, port)) {
                        System.out.println("reconnecting stats " + r.stats(5f).get().stats().count());
                    }
                }
            }
            """;

    @TempDir
    Path dir;

    @Test
    void aJdk17ProgramUsingOnlyTheClientJarAndItsDeclaredDependenciesTalksToTheServer() throws Exception {
        Path jdk = jdk17();
        Path clientJar = ProjectFiles.path("clients", "java", "target", "framepipe-client.jar");
        Path lib = ProjectFiles.path("clients", "java", "target", "lib");
        assertThat(clientJar).as("the client's jar (./mvnw package builds it)").exists();
        assertThat(lib).as("the client's runtime dependencies (./mvnw package copies them)").isDirectory();
        TreeSet<String> artifacts = new TreeSet<>();
        try (Stream<Path> jars = Files.list(lib)) {
            jars.forEach(j -> artifacts.add(
                    j.getFileName().toString().replaceFirst("-\\d[^-]*(-SNAPSHOT)?\\.jar$", "")));
        }
        assertThat(artifacts).as("clients/java/target/lib: the declared runtime dependencies, no optional one")
                .containsExactlyElementsOf(DECLARED_RUNTIME);
        String classpath = clientJar + ":" + lib + "/*";

        Path source = Files.writeString(dir.resolve("ClientProgram.java"), PROGRAM);
        Path classes = Files.createDirectories(dir.resolve("classes"));
        run(List.of(jdk.resolve("bin/javac").toString(), "--release", "17", "-Xlint:all", "-Werror",
                "-cp", classpath, "-d", classes.toString(), source.toString()));

        X509Bundle caCert = TestPki.ca("jdk17 test CA");
        Path ca = TestPki.writeCa(caCert, dir, "ca");
        TestPki.Pem serverPem = TestPki.write(TestPki.server(caCert), dir, "server");
        try (FramepipeServer plain = TestServers.start();
                FramepipeServer tls = TestServers.start(Map.of(Setting.TLS_CERT_CHAIN, serverPem.chain().toString(),
                        Setting.TLS_KEY, serverPem.key().toString()))) {
            String out = run(List.of(jdk.resolve("bin/java").toString(), "-cp", classes + ":" + classpath,
                    "ClientProgram", "127.0.0.1", Integer.toString(plain.framePort()),
                    Integer.toString(tls.framePort()), ca.toString()));
            assertThat(out.lines().toList()).contains(
                    "java 17",
                    "transport nio",
                    "tls provider JDK",
                    "stats 4 10.0 1.0 4.0 2.5",
                    "upper STRASSE",
                    "ping hello",
                    "tls upper OVER TLS",
                    "reconnecting stats 1");
        }
    }

    /** Runs a command; its output, or a failure with it when the exit status is not 0. */
    private static String run(List<String> command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        pb.environment().remove("CLASSPATH");
        Process p = pb.start();
        byte[] output;
        try (var in = p.getInputStream()) {
            output = in.readAllBytes(); // until the process closes its output
        }
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + command);
        }
        String out = new String(output, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as("%s%n%s", String.join(" ", command), out).isZero();
        return out;
    }

    /** $FRAMEPIPE_JDK17, else the first JDK 17 under /usr/lib/jvm. */
    static Path jdk17() throws IOException {
        return jdk17(System.getenv("FRAMEPIPE_JDK17"), Path.of("/usr/lib/jvm"));
    }

    /**
     * {@code configured} when set (it must be a JDK 17), else the first JDK 17 in {@code jvms};
     * an AssertionError saying how to get one when there is none.
     */
    static Path jdk17(String configured, Path jvms) throws IOException {
        if (configured != null && !configured.isBlank()) {
            Path p = Path.of(configured);
            if (!isJdk17(p)) {
                throw new AssertionError("FRAMEPIPE_JDK17=" + configured + " is not a JDK 17 (bin/java, bin/javac,"
                        + " a release file with JAVA_VERSION=\"17...\")");
            }
            return p;
        }
        List<Path> candidates = new ArrayList<>();
        if (Files.isDirectory(jvms)) {
            try (Stream<Path> s = Files.list(jvms)) {
                s.sorted().forEach(candidates::add);
            }
        }
        for (Path c : candidates) {
            if (isJdk17(c)) {
                return c;
            }
        }
        throw new AssertionError("no JDK 17 found under " + jvms + " (looked at " + candidates + "): the client"
                + " library targets Java 17 and this test proves it runs there. Install one (Debian:"
                + " apt-get install openjdk-17-jdk-headless) or point FRAMEPIPE_JDK17 at one.");
    }

    @Test
    void withoutAJdk17TheTestFailsSayingHowToGetOne() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("jvms"));
        Files.createDirectories(empty.resolve("jdk-21/bin"));
        assertThatThrownBy(() -> jdk17(null, empty)).isInstanceOf(AssertionError.class)
                .hasMessageContaining("no JDK 17 found under " + empty).hasMessageContaining("FRAMEPIPE_JDK17");
        assertThatThrownBy(() -> jdk17(empty.resolve("jdk-21").toString(), empty)).isInstanceOf(AssertionError.class)
                .hasMessageContaining("FRAMEPIPE_JDK17=" + empty.resolve("jdk-21") + " is not a JDK 17");
    }

    private static boolean isJdk17(Path home) throws IOException {
        Path release = home.resolve("release");
        if (!Files.isExecutable(home.resolve("bin/java")) || !Files.isExecutable(home.resolve("bin/javac"))
                || !Files.isRegularFile(release)) {
            return false;
        }
        return Files.readAllLines(release).stream().anyMatch(l -> l.startsWith("JAVA_VERSION=\"17"));
    }
}
