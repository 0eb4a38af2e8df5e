package dev.framepipe.tools;

import dev.framepipe.cli.Commands;
import dev.framepipe.client.ClientEventLoops;
import dev.framepipe.client.ClientOptions;
import dev.framepipe.client.ReconnectingClient;
import dev.framepipe.client.Request;
import dev.framepipe.client.Response;
import dev.framepipe.loadgen.StatsReference;
import dev.framepipe.protocol.ErrorCode;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.protocol.Ops;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;
import org.HdrHistogram.Recorder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code framepipe restart-load}: load for rolling restarts. N {@link ReconnectingClient}s keep M
 * requests in flight each (STATS of random floats and PINGs of random bytes), until the duration
 * passes or the process gets SIGTERM / SIGINT; every answer is checked against an independent
 * computation ({@link StatsReference}, the PING's own bytes). Counts requests, answers, correct
 * and wrong answers, failed requests (an exception, or an error answer), requests the clients
 * sent again and SHUTTING_DOWN answers they received; records latency (send to answer, resends
 * included) per second in HdrHistograms, so that quiet seconds and seconds around a restart can
 * be compared afterwards. Exit status 0 when every request was answered correctly.
 */
@Command(name = "framepipe restart-load", mixinStandardHelpOptions = true, versionProvider = dev.framepipe.cli.VersionProvider.class,
        exitCodeListHeading = "%nExit status:%n", exitCodeList = {
                "0:every request made was answered, correctly",
                "1:a wrong answer, a failed request, requests left unanswered, or no connection at the start",
                "2:a bad command line"},
        description = "Reconnecting clients under load, every answer checked; per-second latency histograms as JSON"
                + " (load-tests/rolling-restart.sh).")
final class RestartLoadCommand implements Callable<Integer> {

    /** Latency up to 10 minutes, in microseconds, 2 significant digits (buckets about 1 % wide). */
    private static final long HIGHEST_MICROS = 600_000_000L;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "server or load balancer host (default ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--port", defaultValue = "7070", description = "frame port (default ${DEFAULT-VALUE})")
    int port;

    @Option(names = {"-c", "--clients"}, defaultValue = "8", description = "reconnecting clients, one connection each at a time (default ${DEFAULT-VALUE})")
    int clients;

    @Option(names = {"-d", "--depth"}, defaultValue = "64", description = "requests in flight per client (default ${DEFAULT-VALUE})")
    int depth;

    @Option(names = "--floats", defaultValue = "64", description = "values per STATS request (default ${DEFAULT-VALUE})")
    int floats;

    @Option(names = "--ping-bytes", defaultValue = "64", description = "largest PING payload; each is 1 to this many random bytes (default ${DEFAULT-VALUE})")
    int pingBytes;

    @Option(names = "--ping-share", defaultValue = "0.25", description = "share of requests that are PINGs, 0 to 1 (default ${DEFAULT-VALUE})")
    double pingShare;

    @Option(names = "--duration", defaultValue = "10min",
            description = "longest run; SIGTERM or SIGINT ends it earlier (default ${DEFAULT-VALUE})")
    String duration;

    @Option(names = "--request-timeout", defaultValue = "30s", description = "deadline of each request, resends included (default ${DEFAULT-VALUE})")
    String requestTimeout;

    @Option(names = "--threads", defaultValue = "2", description = "client I/O threads shared by all clients (default ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--seed", defaultValue = "1", description = "random seed of the requests (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--json", description = "write the result, per-second histograms included, to this file")
    Path json;

    @Option(names = "--quiet", description = "no progress line per second on standard error")
    boolean quiet;

    /** SIGTERM and SIGINT end the run; off in tests, which run in the test JVM. */
    boolean handleSignals = true;

    static int run(String[] argv) {
        return Commands.execute(new RestartLoadCommand(), argv);
    }

    // ---- what the run records (written by the clients' I/O threads, read by the ticker) ----

    private final Recorder latency = new Recorder(HIGHEST_MICROS, 2);
    private final LongAdder requests = new LongAdder();
    private final LongAdder answered = new LongAdder();
    private final LongAdder correct = new LongAdder();
    private final LongAdder wrong = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final LongAdder statsOk = new LongAdder();
    private final LongAdder pingOk = new LongAdder();
    private final Map<String, LongAdder> failures = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
    private final List<Second> seconds = new ArrayList<>();
    private final Histogram total = new Histogram(HIGHEST_MICROS, 2);
    private volatile boolean stop;

    /** One second of the run: what was answered or failed in it, and its latency histogram. */
    private record Second(long endMillis, long answered, long failed, long requests, long resent, long declined,
                          long connections, Histogram latency) {
    }

    /** A request and what its answer must be. */
    private record Work(Request request, float[] values, StatsReference stats, byte[] ping) {
    }

    @Override
    @SuppressWarnings("restriction")
    public Integer call() throws Exception {
        CommandLine cl = new CommandLine(this);
        if (clients < 1 || depth < 1 || floats < 1 || pingBytes < 1 || threads < 1 || !(pingShare >= 0 && pingShare <= 1)) {
            throw new CommandLine.ParameterException(cl,
                    "--clients, --depth, --floats, --ping-bytes and --threads must be at least 1, --ping-share 0 to 1");
        }
        Duration runFor;
        Duration timeout;
        try {
            runFor = LoadCommand.parseDuration("--duration", duration);
            timeout = LoadCommand.parseDuration("--request-timeout", requestTimeout);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, e.getMessage());
        }
        CountDownLatch stopped = new CountDownLatch(1);
        if (handleSignals) {
            sun.misc.SignalHandler handler = sig -> stopped.countDown();
            sun.misc.Signal.handle(new sun.misc.Signal("TERM"), handler);
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), handler);
        }

        long startMillis = System.currentTimeMillis();
        List<ReconnectingClient> connected = new ArrayList<>();
        List<Thread> senders = new ArrayList<>();
        List<Semaphore> windows = new ArrayList<>();
        long unsettled = 0;
        try (ClientEventLoops loops = ClientEventLoops.create(threads)) {
            ClientOptions options = ClientOptions.builder().eventLoops(loops).maxInFlight(depth).requestTimeout(timeout).build();
            for (int i = 0; i < clients; i++) {
                connected.add(ReconnectingClient.connect(host, port, options)); // ConnectException: exit 1, says where
            }
            Thread ticker = Thread.ofPlatform().daemon().name("restart-load-ticker").start(() -> tick(connected, startMillis));
            for (int i = 0; i < clients; i++) {
                Semaphore window = new Semaphore(depth);
                windows.add(window);
                ReconnectingClient client = connected.get(i);
                SplittableRandom random = new SplittableRandom(seed * 1_000_003L + i);
                senders.add(Thread.ofPlatform().name("restart-load-" + i).start(() -> send(client, window, random)));
            }
            stopped.await(runFor.toMillis(), TimeUnit.MILLISECONDS);
            stop = true;
            for (Thread t : senders) {
                t.join(); // each notices within 100 ms (not interrupted: a send waiting for room would fail)
            }
            // Every request made gets its outcome within its deadline (resends included).
            long waitUntil = System.nanoTime() + timeout.toNanos() + TimeUnit.SECONDS.toNanos(5);
            for (Semaphore w : windows) {
                long left = Math.max(0, waitUntil - System.nanoTime());
                if (w.tryAcquire(depth, left, TimeUnit.NANOSECONDS)) {
                    w.release(depth);
                } else {
                    unsettled += depth - w.availablePermits();
                }
            }
            ticker.interrupt();
            ticker.join();
            snapshot(connected); // the last part-second
            for (ReconnectingClient c : connected) {
                c.close();
            }
        } finally {
            for (ReconnectingClient c : connected) {
                c.close();
            }
        }
        long endMillis = System.currentTimeMillis();
        long resent = connected.stream().mapToLong(ReconnectingClient::resent).sum();
        long declined = connected.stream().mapToLong(ReconnectingClient::declined).sum();
        long connections = connected.stream().mapToLong(ReconnectingClient::connections).sum();
        PrintStream out = System.out;
        out.printf(Locale.ROOT, "requests %,d  answered %,d  correct %,d  wrong %,d  failed %,d  unsettled %,d%n",
                requests.sum(), answered.sum(), correct.sum(), wrong.sum(), failed.sum(), unsettled);
        out.printf(Locale.ROOT, "resent %,d  SHUTTING_DOWN seen %,d  connections %,d  over %.1f s%n",
                resent, declined, connections, (endMillis - startMillis) / 1000.0);
        out.printf(Locale.ROOT, "latency (us) p50 %d  p99 %d  p99.9 %d  max %d%n", total.getValueAtPercentile(50),
                total.getValueAtPercentile(99), total.getValueAtPercentile(99.9), total.getMaxValue());
        failures.forEach((why, n) -> out.printf(Locale.ROOT, "failed: %,d x %s%n", n.sum(), why));
        problems.forEach(p -> out.println("wrong: " + p));
        if (json != null) {
            Files.writeString(json, toJson(startMillis, endMillis, resent, declined, connections, unsettled));
        }
        return wrong.sum() == 0 && failed.sum() == 0 && unsettled == 0 && answered.sum() == requests.sum() ? 0 : 1;
    }

    /** One client's sender: keeps {@code depth} requests in flight until the run stops. */
    private void send(ReconnectingClient client, Semaphore window, SplittableRandom random) {
        while (!stop) {
            try {
                if (!window.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                    continue;
                }
            } catch (InterruptedException e) {
                return;
            }
            if (stop) {
                window.release();
                return;
            }
            Work w = next(random);
            long t0 = System.nanoTime();
            requests.increment();
            client.send(w.request()).whenComplete((r, e) -> {
                outcome(w, t0, r, e);
                window.release();
            });
        }
    }

    private Work next(SplittableRandom random) {
        if (random.nextDouble() < pingShare) {
            byte[] p = new byte[1 + random.nextInt(pingBytes)];
            random.nextBytes(p);
            return new Work(Request.ping(p), null, null, p);
        }
        // Values around a random mean with a random spread: sums and variances of every scale.
        float[] x = new float[floats];
        double mean = random.nextDouble(-1000, 1000);
        double spread = Math.pow(10, random.nextDouble(-3, 3));
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (mean + spread * (random.nextDouble() * 2 - 1));
        }
        return new Work(Request.stats(x), x, StatsReference.of(x), null);
    }

    /** On a client I/O thread: the request's final outcome. */
    private void outcome(Work w, long t0, Response r, Throwable e) {
        long micros = Math.min(HIGHEST_MICROS, Math.max(0, (System.nanoTime() - t0) / 1000));
        if (e != null) {
            Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
            failure(cause.getClass().getSimpleName() + ": " + String.valueOf(cause.getMessage()));
            return;
        }
        if (r.isError()) {
            ErrorCode code = r.error();
            failure("error answer " + (code != null ? code.name() : Integer.toString(r.errorCode())) + ": " + r.errorMessage());
            return;
        }
        latency.recordValue(micros);
        answered.increment();
        String problem = verify(w, r);
        if (problem == null) {
            correct.increment();
            (w.ping() != null ? pingOk : statsOk).increment();
        } else {
            wrong.increment();
            if (problems.size() < 10) {
                problems.add(problem);
            }
        }
    }

    private void failure(String why) {
        failed.increment();
        String key = why.length() > 160 ? why.substring(0, 160) + "..." : why;
        failures.computeIfAbsent(failures.size() < 50 ? key : "(other reasons)", k -> new LongAdder()).increment();
    }

    static String verify(Work w, Response r) {
        if (w.ping() != null) {
            if (r.kind() != (Kinds.PING | 0x80) || r.op() != Ops.PING) {
                return "PING answered with kind " + r.kind() + " op " + r.op();
            }
            return Arrays.equals(r.payload(), w.ping()) ? null
                    : "PING of " + w.ping().length + " bytes answered with " + r.payload().length + " other bytes";
        }
        if (r.kind() != (Kinds.FLOATS | 0x80) || r.op() != Ops.STATS) {
            return "STATS answered with kind " + r.kind() + " op " + r.op();
        }
        Response.Stats s = r.stats();
        String p = w.stats().check(s.count(), s.sum(), s.min(), s.max(), s.mean(), s.variance());
        return p == null ? null : "STATS of " + w.values().length + " values: " + p;
    }

    // ---- per-second records ----

    private long lastAnswered;
    private long lastFailed;
    private long lastRequests;

    private void tick(List<ReconnectingClient> connected, long startMillis) {
        long next = startMillis + 1000;
        while (!Thread.currentThread().isInterrupted()) {
            long now = System.currentTimeMillis();
            if (now < next) {
                try {
                    Thread.sleep(next - now);
                } catch (InterruptedException e) {
                    return;
                }
                continue;
            }
            next += 1000;
            Second s = snapshot(connected);
            if (!quiet) {
                System.err.printf(Locale.ROOT, "restart-load: %4d s  %,8d answered/s  p99 %,7d us  max %,8d us  failed %d  resent %d  declined %d  connections %d%n",
                        (s.endMillis() - startMillis) / 1000, s.answered(), s.latency().getValueAtPercentile(99),
                        s.latency().getMaxValue(), failed.sum(), s.resent(), s.declined(), s.connections());
            }
        }
    }

    /** Closes the current second (ticker thread, then the main thread once the ticker has stopped). */
    private synchronized Second snapshot(List<ReconnectingClient> connected) {
        Histogram h = latency.getIntervalHistogram();
        long a = answered.sum();
        long f = failed.sum();
        long q = requests.sum();
        Second s = new Second(System.currentTimeMillis(), a - lastAnswered, f - lastFailed, q - lastRequests,
                connected.stream().mapToLong(ReconnectingClient::resent).sum(),
                connected.stream().mapToLong(ReconnectingClient::declined).sum(),
                connected.stream().mapToLong(ReconnectingClient::connections).sum(), h);
        lastAnswered = a;
        lastFailed = f;
        lastRequests = q;
        total.add(h);
        seconds.add(s);
        return s;
    }

    private synchronized String toJson(long startMillis, long endMillis, long resent, long declined, long connections,
                                       long unsettled) {
        StringBuilder b = new StringBuilder(1 << 16);
        b.append("{\n");
        field(b, "tool", "\"restart-load\"");
        field(b, "target", "\"" + host + ":" + port + "\"");
        field(b, "clients", clients);
        field(b, "depth", depth);
        field(b, "floats", floats);
        field(b, "ping_bytes", pingBytes);
        field(b, "ping_share", pingShare);
        field(b, "start_ms", startMillis);
        field(b, "end_ms", endMillis);
        field(b, "requests", requests.sum());
        field(b, "answered", answered.sum());
        field(b, "correct", correct.sum());
        field(b, "wrong", wrong.sum());
        field(b, "failed", failed.sum());
        field(b, "unsettled", unsettled);
        field(b, "resent", resent);
        field(b, "shutting_down_seen", declined);
        field(b, "connections", connections);
        field(b, "answered_by_op", "{\"stats\": " + statsOk.sum() + ", \"ping\": " + pingOk.sum() + "}");
        Map<String, Long> why = new TreeMap<>();
        failures.forEach((k, v) -> why.put(k, v.sum()));
        StringBuilder f = new StringBuilder("{");
        why.forEach((k, v) -> f.append(f.length() > 1 ? ", " : "").append(quote(k)).append(": ").append(v));
        field(b, "failures", f.append('}').toString());
        StringBuilder p = new StringBuilder("[");
        problems.forEach(s -> p.append(p.length() > 1 ? ", " : "").append(quote(s)));
        field(b, "wrong_examples", p.append(']').toString());
        field(b, "latency_us", String.format(Locale.ROOT, "{\"p50\": %d, \"p99\": %d, \"p999\": %d, \"max\": %d}",
                total.getValueAtPercentile(50), total.getValueAtPercentile(99), total.getValueAtPercentile(99.9),
                total.getMaxValue()));
        b.append("  \"seconds\": [");
        for (int i = 0; i < seconds.size(); i++) {
            Second s = seconds.get(i);
            b.append(i == 0 ? "\n" : ",\n").append(String.format(Locale.ROOT,
                    "    {\"t_ms\": %d, \"requests\": %d, \"answered\": %d, \"failed\": %d, \"resent\": %d, \"declined\": %d,"
                            + " \"connections\": %d, \"p99_us\": %d, \"max_us\": %d, \"buckets\": [",
                    s.endMillis(), s.requests(), s.answered(), s.failed(), s.resent(), s.declined(), s.connections(),
                    s.latency().getValueAtPercentile(99), s.latency().getMaxValue()));
            boolean first = true;
            for (HistogramIterationValue v : s.latency().recordedValues()) {
                b.append(first ? "" : ",").append('[').append(v.getValueIteratedTo()).append(',')
                        .append(v.getCountAddedInThisIterationStep()).append(']');
                first = false;
            }
            b.append("]}");
        }
        b.append("\n  ]\n}\n");
        return b.toString();
    }

    private static void field(StringBuilder b, String name, Object value) {
        b.append("  \"").append(name).append("\": ").append(value).append(",\n");
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
