package dev.framepipe.loadgen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.framepipe.baseline.BaselineServer;
import dev.framepipe.baseline.RawBaselineServer;
import dev.framepipe.config.FramepipeConfig.Transport;
import dev.framepipe.config.Setting;
import dev.framepipe.server.FramepipeServer;
import dev.framepipe.testing.TestServers;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.testing.Frames;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The load generator drives a real server, verifies what comes back, and reports honestly. */
class LoadGeneratorTest {

    static FramepipeServer server;

    @BeforeAll
    static void start() {
        server = TestServers.start();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        server.close();
    }

    private static LoadGenerator.Options options(int port, String mix, long frames, double rate, boolean values) {
        return new LoadGenerator.Options("127.0.0.1", port, 4, 16, MixEntry.parseAll(mix), Duration.ofSeconds(30), frames,
                Duration.ofMillis(200), rate, 1, values, 1, Duration.ofSeconds(10));
    }

    @Test
    void aClosedLoopRunOfEveryOpIsAnsweredAndVerifiedWithoutMismatch() throws Exception {
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        LoadResult r = LoadGenerator.run(options(server.framePort(),
                "stats:64,scale:100,upper:256,lower:256,count:1000,ping:0,ping:3000", 20_000, 0, true),
                new PrintStream(progress, true, StandardCharsets.UTF_8));
        assertThat(r.frames()).isGreaterThanOrEqualTo(20_000);
        assertThat(r.mismatches()).as("%s", r.problems()).isZero();
        assertThat(r.errors()).isZero();
        assertThat(r.framesPerSecond()).isPositive();
        assertThat(r.p50Micros()).isPositive().isLessThanOrEqualTo(r.p99Micros());
        assertThat(r.p99Micros()).isLessThanOrEqualTo(r.maxMicros());
        assertThat(r.table()).contains("throughput").contains("p99.9").contains("hiccups (us)  p99 ");
        assertThat(r.toJson()).contains("\"frames_per_second\"").contains("\"mismatches\": 0")
                .containsPattern("\"hiccup_max_us\": [0-9]+\\.[0-9]{3},");
        assertThat(r.hiccupP99Micros()).isNotNaN().isGreaterThanOrEqualTo(0).isLessThanOrEqualTo(r.hiccupMaxMicros());
    }

    @Test
    void withoutTheHiccupMeterTheReportSaysItWasOff() throws Exception {
        LoadGenerator.Options o = new LoadGenerator.Options("127.0.0.1", server.framePort(), 1, 4,
                MixEntry.parseAll("ping:16"), Duration.ofSeconds(30), 200, Duration.ZERO, 0, 1, true, 1,
                Duration.ofSeconds(10), null, false);
        LoadResult r = LoadGenerator.run(o, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        assertThat(r.mismatches()).isZero();
        assertThat(r.hiccupMaxMicros()).isNaN();
        assertThat(r.table()).contains("hiccups (us)  off");
        assertThat(r.toJson()).contains("\"hiccup_p99_us\": null,").contains("\"hiccup_max_us\": null,");
    }

    @Test
    void wrongAnswersAreReportedAsMismatches() throws Exception {
        // The baseline answers STATS with zeros: the right size, the wrong values.
        try (BaselineServer baseline = new BaselineServer("127.0.0.1", 0, 1, Transport.AUTO)) {
            LoadResult checked = LoadGenerator.run(options(baseline.port(), "stats:64", 2_000, 0, true),
                    new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
            assertThat(checked.mismatches()).isPositive();
            assertThat(checked.problems()).anySatisfy(p -> assertThat(p).contains("STATS count 0"));
            LoadResult sizesOnly = LoadGenerator.run(options(baseline.port(), "stats:64,upper:256", 2_000, 0, false),
                    new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
            assertThat(sizesOnly.mismatches()).as("%s", sizesOnly.problems()).isZero();
        }
    }

    /**
     * An open loop never runs ahead of its schedule: the n-th request is not due before (n - 1) /
     * rate has passed, so n answered requests take at least that long, whatever the machine does
     * (a lower bound on time: a busy machine only makes it longer). How close a run comes to its
     * rate is a measurement, not a test: load-tests/run.sh (scenarios 05 and 06) reports it.
     */
    @Test
    void anOpenLoopRunIsNeverFasterThanTheRequestedRate() throws Exception {
        int frames = 1_500;
        double rate = 2_000;
        LoadGenerator.Options o = new LoadGenerator.Options("127.0.0.1", server.framePort(), 2, 64,
                MixEntry.parseAll("ping:16"), Duration.ofSeconds(30), frames, Duration.ZERO, rate, 1, true, 1,
                Duration.ofSeconds(10));
        long start = System.nanoTime();
        LoadResult r = LoadGenerator.run(o, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        long took = System.nanoTime() - start;
        assertThat(r.mismatches()).as("%s", r.problems()).isZero();
        assertThat(r.frames()).isGreaterThanOrEqualTo(frames);
        assertThat(took).as("ns for %d frames at %.0f/s", frames, rate).isGreaterThanOrEqualTo((long) ((frames - 1) / rate * 1e9));
    }

    /**
     * Connections on two event loops: each loop's pacer must tick its own connections. A pacer
     * that never ticked would leave its connections silent; the generator reports every
     * connection of an open-loop run that its pacer never reached as a mismatch.
     */
    @Test
    void anOpenLoopWithConnectionsOnTwoThreadsPacesEveryConnection() throws Exception {
        int frames = 1_000;
        double rate = 1_000;
        LoadGenerator.Options o = new LoadGenerator.Options("127.0.0.1", server.framePort(), 5, 64,
                MixEntry.parseAll("stats:64,ping:3000"), Duration.ofSeconds(30), frames, Duration.ZERO, rate, 1,
                true, 2, Duration.ofSeconds(10));
        long start = System.nanoTime();
        LoadResult r = LoadGenerator.run(o, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        long took = System.nanoTime() - start;
        assertThat(r.mismatches()).as("%s", r.problems()).isZero();
        assertThat(r.frames()).isGreaterThanOrEqualTo(frames);
        assertThat(took).isGreaterThanOrEqualTo((long) ((frames - 1) / rate * 1e9));
    }

    @Test
    void anAnswerStreamWithABrokenHeaderIsReportedAndNotReadFurther() throws Exception {
        // A server that answers the first request with a frame of protocol version 2.
        try (ServerSocket fake = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread answerer = Thread.ofVirtual().start(() -> {
                try (Socket s = fake.accept()) {
                    s.getInputStream().readNBytes(16);
                    byte[] bad = Frames.header(12, 2, Kinds.PING | 0x80, 0, 1);
                    s.getOutputStream().write(bad);
                    s.getOutputStream().flush();
                    s.getInputStream().read(); // until the generator closes
                } catch (IOException ignored) {
                    // the generator closed first
                }
            });
            LoadGenerator.Options o = new LoadGenerator.Options("127.0.0.1", fake.getLocalPort(), 1, 1,
                    MixEntry.parseAll("ping:0"), Duration.ofMillis(500), 0, Duration.ZERO, 0, 1, true, 1,
                    Duration.ofSeconds(1));
            LoadResult r = LoadGenerator.run(o, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
            assertThat(r.mismatches()).isPositive();
            assertThat(r.problems()).anySatisfy(p -> assertThat(p).contains("answer stream broken").contains("version 2"));
            assertThat(r.frames()).isZero();
            answerer.join(5_000);
        }
    }

    @Test
    void aServerThatClosesEndsTheRunWithItsRequestsCountedAsLostNotAsMismatches() throws Exception {
        // A server that reads and never answers, then closes: every request sent is lost. Closed
        // loop, depth 16, one connection: exactly 16 were sent (each further one waits for an answer).
        try (ServerSocket fake = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread closer = Thread.ofVirtual().start(() -> {
                try (Socket s = fake.accept()) {
                    s.getInputStream().readNBytes(16 * 16); // the 16 PINGs of 16 header bytes
                    Thread.sleep(300);
                } catch (IOException | InterruptedException ignored) {
                    // the test fails on the counts below
                }
            });
            LoadGenerator.Options o = new LoadGenerator.Options("127.0.0.1", fake.getLocalPort(), 1, 16,
                    MixEntry.parseAll("ping:0"), Duration.ofSeconds(30), 0, Duration.ZERO, 0, 1, true, 1,
                    Duration.ofSeconds(5), null, false);
            ByteArrayOutputStream progress = new ByteArrayOutputStream();
            long start = System.nanoTime();
            LoadResult r = LoadGenerator.run(o, new PrintStream(progress, true, StandardCharsets.UTF_8));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("ended when the server closed, not after 30 s")
                    .isLessThan(Duration.ofSeconds(15));
            assertThat(r.mismatches()).as("%s", r.problems()).isZero();
            assertThat(r.requestsSent()).isEqualTo(16);
            assertThat(r.answersReceived()).isZero();
            assertThat(r.lost()).isEqualTo(16);
            assertThat(r.closedByServer()).isEqualTo(1);
            assertThat(r.endedEarly()).startsWith("the server closed all 1 connections after ");
            assertThat(r.complete()).isFalse();
            String out = progress.toString(StandardCharsets.UTF_8);
            assertThat(out).contains("the server closed 1 of 1 connections").contains("stopped: the server closed")
                    .doesNotContain(" 0 frames/s");
            assertThat(r.table()).contains("closed        1 of 1 connections by the server: 0 of 16 requests sent answered, 16 lost")
                    .contains("ended early   the server closed").contains("mismatches    0");
            assertThat(r.toJson()).contains("\"lost\": 16,").contains("\"connections_closed_by_server\": 1,")
                    .contains("\"requests_sent\": 16,");
            closer.join(5_000);
        }
    }

    @Test
    void aDrainingServerEndsTheRunAndEveryRequestIsEitherAnsweredOrLost() throws Exception {
        FramepipeServer draining = TestServers.start();
        try {
            LoadGenerator.Options o = new LoadGenerator.Options("127.0.0.1", draining.framePort(), 4, 16,
                    MixEntry.parseAll("stats:64,ping:100"), Duration.ofSeconds(60), 0, Duration.ZERO, 0, 1, true, 1,
                    Duration.ofSeconds(5), null, false);
            Thread drainer = Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(1_500);
                    draining.drainAndStop();
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            });
            LoadResult r = LoadGenerator.run(o, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
            drainer.join(30_000);
            assertThat(r.mismatches()).as("%s", r.problems()).isZero();
            assertThat(r.closedByServer()).isEqualTo(4);
            assertThat(r.endedEarly()).startsWith("the server closed all 4 connections after ");
            assertThat(r.answersReceived()).isPositive();
            assertThat(r.answersReceived() + r.lost()).as("answered + lost = sent").isEqualTo(r.requestsSent());
            assertThat(r.seconds()).isLessThan(30);
            // the drain declines what it did not start with SHUTTING_DOWN: an answer, counted as an error
            assertThat(r.errorsByCode().keySet()).isSubsetOf(java.util.Set.of("shutting_down"));
        } finally {
            draining.close();
        }
    }

    @Test
    void aConnectionRetiredByMaxConnectionAgeIsReportedWithTheServersReasonByBothClients() throws Exception {
        FramepipeServer aging = TestServers.start(Map.of(Setting.MAX_CONNECTION_AGE, "1s"));
        try {
            for (LoadGenerator.Client client : LoadGenerator.Client.values()) {
                LoadGenerator.Options o = new LoadGenerator.Options("127.0.0.1", aging.framePort(), 1, 8,
                        MixEntry.parseAll("ping:16"), Duration.ofSeconds(60), 0, Duration.ZERO, 0, 1, true, 1,
                        Duration.ofSeconds(5), null, false, client, 0);
                LoadResult r = LoadGenerator.run(o, quiet());
                assertThat(r.closedByServer()).as("%s", client).isEqualTo(1);
                assertThat(r.seconds()).as("%s", client).isLessThan(30);
                assertThat(r.problems()).as("%s", client).first().asString()
                        .startsWith("ping:16: error answer shutting_down: connection reached max-connection-age; ");
            }
        } finally {
            aging.close();
        }
    }

    private static LoadGenerator.Options blocking(int port, String mix, int depth, long frames, boolean values, long serverPid) {
        return new LoadGenerator.Options("127.0.0.1", port, 3, depth, MixEntry.parseAll(mix), Duration.ofSeconds(30), frames,
                Duration.ofMillis(200), 0, 1, values, 1, Duration.ofSeconds(10), null, false,
                LoadGenerator.Client.BLOCKING, serverPid);
    }

    private static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    }

    @Test
    void theBlockingClientVerifiesEveryOpAndReportsTheServersCpuAndTheLatencySpectrum() throws Exception {
        // The test server runs in this JVM: its CPU is this process's.
        LoadResult r = LoadGenerator.run(blocking(server.framePort(),
                "stats:64,scale:100,upper:256,lower:256,count:1000,ping:0,ping:3000", 16, 20_000, true,
                ProcessHandle.current().pid()), quiet());
        assertThat(r.mismatches()).as("%s", r.problems()).isZero();
        assertThat(r.errors()).isZero();
        assertThat(r.frames()).isGreaterThanOrEqualTo(20_000);
        assertThat(r.client()).isEqualTo("blocking");
        assertThat(r.serverCpuCores()).isPositive();
        assertThat(r.clientCpuCores()).isPositive();
        assertThat(r.framesPerServerCoreSecond()).isPositive();
        assertThat(r.latencyPercentiles()).extracting(p -> p[0]).containsExactly(
                java.util.Arrays.stream(LoadGenerator.SPECTRUM).boxed().toArray(Double[]::new));
        assertThat(r.latencyPercentiles()).extracting(p -> p[1]).isSorted().allSatisfy(us -> assertThat(us).isPositive());
        assertThat(r.latencyPercentiles().getLast()[1]).isEqualTo(r.maxMicros());
        assertThat(r.answersReceived()).isEqualTo(r.requestsSent());
        assertThat(r.toJson()).contains("\"client\": \"blocking\",").containsPattern("\"server_cpu_cores\": [0-9.]+,")
                .containsPattern("\"latency_percentiles\": \\[\\[0.0, [0-9.]+\\], \\[25.0, ");
        assertThat(r.table()).contains("client blocking").contains("cpu (cores)   server ");
    }

    @Test
    void theBlockingClientReportsWrongValuesAndWrongSizes() throws Exception {
        try (BaselineServer baseline = new BaselineServer("127.0.0.1", 0, 1, Transport.AUTO)) {
            LoadResult checked = LoadGenerator.run(blocking(baseline.port(), "stats:64", 8, 2_000, true, 0), quiet());
            assertThat(checked.mismatches()).isPositive();
            assertThat(checked.problems()).anySatisfy(p -> assertThat(p).contains("STATS count 0"));
            assertThat(checked.serverCpuCores()).isNaN();
            assertThat(checked.toJson()).contains("\"server_cpu_cores\": null,");
            LoadResult sizesOnly = LoadGenerator.run(blocking(baseline.port(), "stats:64,upper:256", 8, 2_000, false, 0), quiet());
            assertThat(sizesOnly.mismatches()).as("%s", sizesOnly.problems()).isZero();
        }
        // A server that answers PING with one byte too many: the size is wrong whatever --verify says.
        try (ServerSocket fake = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread answerer = Thread.ofVirtual().start(() -> {
                try (Socket s = fake.accept()) {
                    byte[] request = s.getInputStream().readNBytes(16);
                    long id = java.nio.ByteBuffer.wrap(request).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(8);
                    s.getOutputStream().write(Frames.frame(Kinds.PING | 0x80, 0, id, new byte[1]));
                    s.getInputStream().read(); // until the generator closes
                } catch (IOException ignored) {
                    // the generator closed first
                }
            });
            LoadGenerator.Options o = new LoadGenerator.Options("127.0.0.1", fake.getLocalPort(), 1, 1,
                    MixEntry.parseAll("ping:0"), Duration.ofSeconds(30), 1, Duration.ZERO, 0, 1, false, 1,
                    Duration.ofSeconds(1), null, false, LoadGenerator.Client.BLOCKING, 0);
            LoadResult r = LoadGenerator.run(o, quiet());
            assertThat(r.mismatches()).isPositive();
            assertThat(r.problems()).anySatisfy(p -> assertThat(p).contains("ping:0: answer payload 1 bytes, expected 0"));
            answerer.join(5_000);
        }
    }

    @Test
    void theBlockingClientReadsWhileItWritesWhenARoundsAnswersOutgrowTheSocketBuffers() throws Exception {
        // 8 echoes of 256 KiB in flight per connection: answers of 2 MiB a round, more than the
        // socket buffers hold while the client is still writing.
        try (RawBaselineServer raw = new RawBaselineServer("127.0.0.1", 0, 64 * 1024, 1 << 20)) {
            LoadResult r = LoadGenerator.run(blocking(raw.port(), "ping:262144,stats:64", 8, 400, false, 0), quiet()); // sizes: raw computes nothing
            assertThat(r.mismatches()).as("%s", r.problems()).isZero();
            assertThat(r.frames()).isGreaterThanOrEqualTo(400);
        }
        assertThat(new BlockingConnectionProbe().blockingFor("ping:262144", 8)).isFalse();
        assertThat(new BlockingConnectionProbe().blockingFor("stats:64", 128)).isTrue();
    }

    /** Opens a connection to a listening socket only to ask which way it would run. */
    private static final class BlockingConnectionProbe {
        boolean blockingFor(String mix, int depth) throws Exception {
            try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                RequestTemplate t = RequestTemplate.of(MixEntry.parseAll(mix).getFirst(), 1);
                try {
                    BlockingConnection c = new BlockingConnection(new RequestTemplate[] {t}, 0, new LoadStats(), depth, 1, true,
                            "127.0.0.1", listener.getLocalPort(), 0);
                    boolean blocking = c.blocking();
                    c.close();
                    return blocking;
                } finally {
                    t.payload.release();
                }
            }
        }
    }

    @Test
    void theBlockingClientCountsRequestsAsLostWhenTheServerCloses() throws Exception {
        try (ServerSocket fake = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread closer = Thread.ofVirtual().start(() -> {
                try (Socket s = fake.accept()) {
                    s.getInputStream().readNBytes(16 * 16);
                    Thread.sleep(300);
                } catch (IOException | InterruptedException ignored) {
                    // the test fails on the counts below
                }
            });
            LoadGenerator.Options o = new LoadGenerator.Options("127.0.0.1", fake.getLocalPort(), 1, 16,
                    MixEntry.parseAll("ping:0"), Duration.ofSeconds(30), 0, Duration.ZERO, 0, 1, true, 1,
                    Duration.ofSeconds(5), null, false, LoadGenerator.Client.BLOCKING, 0);
            LoadResult r = LoadGenerator.run(o, quiet());
            assertThat(r.mismatches()).as("%s", r.problems()).isZero();
            assertThat(r.requestsSent()).isEqualTo(16);
            assertThat(r.lost()).isEqualTo(16);
            assertThat(r.closedByServer()).isEqualTo(1);
            assertThat(r.endedEarly()).startsWith("the server closed all 1 connections after ");
            closer.join(5_000);
        }
    }

    @Test
    void theBlockingClientRefusesWhatOnlyTheNettyClientDoes() {
        assertThatThrownBy(() -> new LoadGenerator.Options("127.0.0.1", 1, 1, 1, MixEntry.parseAll("ping:0"),
                Duration.ofSeconds(1), 0, Duration.ZERO, 1000, 1, true, 1, Duration.ofSeconds(1), null, false,
                LoadGenerator.Client.BLOCKING, 0)).hasMessageContaining("--rate");
        assertThatThrownBy(() -> new LoadGenerator.Options("127.0.0.1", 1, 1, 1, MixEntry.parseAll("ping:0"),
                Duration.ofSeconds(1), 0, Duration.ZERO, 0, 1, true, 2, Duration.ofSeconds(1), null, false,
                LoadGenerator.Client.BLOCKING, 0)).hasMessageContaining("--threads");
    }

    @Test
    void theServersCpuIsReadFromProcStat() {
        // the command name may hold spaces and parentheses: fields are counted after the last ')'
        String line = "1234 (java (x) y) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 40 0 100 0 0";
        assertThat(CpuMeter.statCpuNanos(line)).isEqualTo(325 * 10_000_000L);
        assertThatThrownBy(() -> CpuMeter.ofProcess(Long.MAX_VALUE)).hasMessageContaining("cannot read");
    }

    @Test
    void mixEntriesParseWithSizesAndWeightsAndBadOnesAreRefused() {
        assertThat(MixEntry.parseAll("stats:64@3, upper:256 ,ping:0")).containsExactly(
                new MixEntry("stats", 64, 3), new MixEntry("upper", 256, 1), new MixEntry("ping", 0, 1));
        assertThat(List.of("nope:1", "stats", "stats:-1", "stats:1@0", "stats:x", "")).allSatisfy(bad ->
                assertThatThrownBy(() -> MixEntry.parseAll(bad)).isInstanceOf(IllegalArgumentException.class));
    }
}
