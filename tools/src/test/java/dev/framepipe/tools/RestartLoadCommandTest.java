package dev.framepipe.tools;

import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.cli.Commands;
import dev.framepipe.config.Setting;
import dev.framepipe.server.FramepipeServer;
import dev.framepipe.testing.TestServers;
import io.micrometer.core.instrument.FunctionCounter;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code framepipe restart-load}: every request answered once and checked while the server
 * retires connections; the JSON's counts and per-second histograms agree with each other and with
 * the server's counters; a wrong answer fails the run.
 */
class RestartLoadCommandTest {

    @TempDir
    Path tmp;

    private record Run(int status, String out) {
    }

    private static Run restartLoad(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            RestartLoadCommand command = new RestartLoadCommand();
            command.handleSignals = false; // the test JVM's signals stay its own
            return new Run(Commands.execute(command, args), out.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(old);
        }
    }

    @Test
    void everyRequestIsAnsweredOnceAndCheckedAcrossRetiredConnections() throws Exception {
        Path json = tmp.resolve("run.json");
        try (FramepipeServer server = TestServers.start(Map.of(Setting.MAX_CONNECTION_AGE, "300ms"))) {
            Run run = restartLoad("--port", Integer.toString(server.framePort()), "--clients", "3", "--depth", "32",
                    "--duration", "3s", "--json", json.toString(), "--quiet");
            assertThat(run.status()).as(run.out()).isZero();
            String j = Files.readString(json);
            long requests = number(j, "requests");
            assertThat(requests).isPositive();
            assertThat(number(j, "answered")).isEqualTo(requests);
            assertThat(number(j, "correct")).isEqualTo(requests);
            assertThat(number(j, "wrong")).isZero();
            assertThat(number(j, "failed")).isZero();
            assertThat(number(j, "unsettled")).isZero();
            assertThat(number(j, "connections")).as("the server retired connections").isGreaterThan(3);
            assertThat(number(j, "resent")).as("and the clients sent what it had not run again").isPositive();
            long stats = number(j, "stats");
            long ping = number(j, "ping");
            assertThat(stats + ping).isEqualTo(requests);
            assertThat(ping).as("about a quarter PINGs").isBetween(requests / 8, requests / 2);
            assertThat(okAnswers(server)).as("the server ran each request exactly once").isEqualTo(requests);
            // The per-second histograms hold every answer, once.
            long inBuckets = 0;
            Matcher pair = Pattern.compile("\\[(\\d+),(\\d+)]").matcher(j.substring(j.indexOf("\"seconds\"")));
            while (pair.find()) {
                inBuckets += Long.parseLong(pair.group(2));
            }
            assertThat(inBuckets).isEqualTo(requests);
            long perSecond = 0;
            Matcher answered = Pattern.compile("\"t_ms\": \\d+, \"requests\": \\d+, \"answered\": (\\d+)").matcher(j);
            int seconds = 0;
            while (answered.find()) {
                perSecond += Long.parseLong(answered.group(1));
                seconds++;
            }
            assertThat(perSecond).isEqualTo(requests);
            assertThat(seconds).as("3 s and the last part-second").isBetween(3, 5);
            assertThat(run.out()).contains("wrong 0  failed 0  unsettled 0");
        }
    }

    @Test
    void aWrongAnswerFailsTheRun() throws Exception {
        try (WrongStatsServer fake = new WrongStatsServer()) {
            Path json = tmp.resolve("wrong.json");
            Run run = restartLoad("--port", Integer.toString(fake.port()), "--clients", "1", "--depth", "4",
                    "--ping-share", "0", "--duration", "500ms", "--json", json.toString(), "--quiet");
            assertThat(run.status()).isEqualTo(1);
            String j = Files.readString(json);
            assertThat(number(j, "wrong")).isPositive().isEqualTo(number(j, "answered"));
            assertThat(number(j, "correct")).isZero();
            assertThat(j).contains("STATS of 64 values: count 0, expected 64");
        }
    }

    @Test
    void badOptionsAreRefused() {
        assertThat(restartLoad("--clients", "0").status()).isEqualTo(2);
        assertThat(restartLoad("--ping-share", "1.5").status()).isEqualTo(2);
        assertThat(restartLoad("--duration", "10").status()).as("a duration needs its unit").isEqualTo(2);
    }

    private static long number(String json, String field) {
        Matcher m = Pattern.compile("\"" + field + "\": (\\d+)").matcher(json);
        assertThat(m.find()).as("field %s in %s", field, json.length() > 400 ? json.substring(0, 400) : json).isTrue();
        return Long.parseLong(m.group(1));
    }

    private static long okAnswers(FramepipeServer server) {
        return (long) server.registry().find("pipeline.frames.completed").tag("outcome", "ok").functionCounters().stream()
                .mapToDouble(FunctionCounter::count).sum();
    }

    /** Answers every request with a STATS answer of zeros (count 0): well-formed, and wrong. */
    private static final class WrongStatsServer implements AutoCloseable {
        private final ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final Thread acceptor = Thread.ofPlatform().daemon().start(this::accept);

        WrongStatsServer() throws IOException {
        }

        int port() {
            return listener.getLocalPort();
        }

        private void accept() {
            while (!listener.isClosed()) {
                try {
                    Socket s = listener.accept();
                    Thread.ofPlatform().daemon().start(() -> serve(s));
                } catch (IOException e) {
                    return;
                }
            }
        }

        private static void serve(Socket s) {
            try (s) {
                DataInputStream in = new DataInputStream(s.getInputStream());
                OutputStream out = s.getOutputStream();
                while (true) {
                    byte[] head = new byte[16];
                    in.readFully(head);
                    ByteBuffer h = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
                    in.readFully(new byte[h.getInt(0) - 12]);
                    ByteBuffer a = ByteBuffer.allocate(16 + 48).order(ByteOrder.LITTLE_ENDIAN);
                    a.putInt(12 + 48).put((byte) 1).put((byte) (head[5] | 0x80)).putShort(h.getShort(6)).putLong(h.getLong(8));
                    out.write(a.array());
                    out.flush();
                }
            } catch (IOException e) {
                // the client closed
            }
        }

        @Override
        public void close() throws Exception {
            listener.close();
            acceptor.join(5_000);
        }
    }
}
