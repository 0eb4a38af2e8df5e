package dev.framepipe.tools;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import dev.framepipe.cli.Commands;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code framepipe soak}: drives a running server (started by {@code load-tests/soak.sh} with the
 * leak detector at paranoid) for a set time with a mix of traffic, then stops it and writes a
 * report. Traffic classes, each on its own threads with blocking sockets (byte-level control):
 * valid pipelined requests whose answers are all checked; malformed frames of every error code;
 * disconnects in the middle of a frame and in the middle of an answer; clients that stop reading
 * and come back; connection churn; slowloris trickles. "Lost" counts frames whose answer a
 * client waited for and did not get; frames a client abandoned by disconnecting are reported
 * apart. Exit status 0 only when nothing was lost, every answer was right, and no leak was logged.
 */
@Command(name = "framepipe soak", mixinStandardHelpOptions = true, versionProvider = dev.framepipe.cli.VersionProvider.class,
        description = "Soak test against a running server; writes a Markdown report.")
final class SoakCommand implements java.util.concurrent.Callable<Integer> {

    @Option(names = "--host", defaultValue = "127.0.0.1")
    String host;
    @Option(names = "--port", required = true, description = "frame port")
    int port;
    @Option(names = "--http-port", required = true, description = "HTTP port (metrics)")
    int httpPort;
    @Option(names = "--pid", required = true, description = "server process id (RSS, jcmd, SIGTERM)")
    long pid;
    @Option(names = "--server-log", required = true, description = "the server's log (grepped for LEAK)")
    Path serverLog;
    @Option(names = "--duration", defaultValue = "600", description = "seconds of traffic (default ${DEFAULT-VALUE})")
    int seconds;
    @Option(names = "--report", required = true, description = "Markdown report to write")
    Path report;
    @Option(names = "--slow-frame-grace", defaultValue = "2", description = "the server's slow-frame-grace in seconds")
    int slowGrace;

    enum Traffic { VALID, MALFORMED, MID_FRAME_DISCONNECT, MID_ANSWER_DISCONNECT, STOPS_READING, CHURN, SLOWLORIS }

    private final Map<Traffic, LongAdder> sent = counters();
    private final Map<Traffic, LongAdder> answered = counters();
    private final Map<Traffic, LongAdder> lost = counters();
    private final Map<Traffic, LongAdder> abandoned = counters();
    private final Map<Traffic, LongAdder> connections = counters();
    private final Map<String, LongAdder> errorsSeen = new ConcurrentHashMap<>();
    private final LongAdder wrong = new LongAdder();
    private final LongAdder slowClosed = new LongAdder();
    private final List<String> problems = java.util.Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong ids = new AtomicLong(1);
    private volatile long deadline;

    static int run(String[] argv) {
        return Commands.execute(new SoakCommand(), argv);
    }

    private static <K extends Enum<K>> Map<K, LongAdder> countersOf(Class<K> type) {
        Map<K, LongAdder> m = new EnumMap<>(type);
        for (K k : type.getEnumConstants()) {
            m.put(k, new LongAdder());
        }
        return m;
    }

    private static Map<Traffic, LongAdder> counters() {
        return countersOf(Traffic.class);
    }

    @Override
    public Integer call() throws Exception {
        Instant start = Instant.now();
        List<Sample> samples = new ArrayList<>();
        samples.add(sample("start"));
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            threads.add(loop("valid-" + i, this::validBatch));
        }
        threads.add(loop("malformed", this::malformed));
        threads.add(loop("mid-frame", this::midFrameDisconnect));
        threads.add(loop("mid-answer", this::midAnswerDisconnect));
        threads.add(loop("stops-reading", this::stopsReading));
        threads.add(loop("churn-0", this::churn));
        threads.add(loop("churn-1", this::churn));
        threads.add(loop("slowloris", this::slowloris));
        long every = Math.max(5, seconds / 10);
        while (System.nanoTime() < deadline) {
            long left = TimeUnit.NANOSECONDS.toSeconds(deadline - System.nanoTime());
            Thread.sleep(TimeUnit.SECONDS.toMillis(Math.min(every, Math.max(1, left))));
            samples.add(sample("t+" + Duration.between(start, Instant.now()).toSeconds() + "s"));
            System.err.println("soak: " + samples.getLast() + " sent " + total(sent) + " answered " + total(answered)
                    + " lost " + total(lost) + " wrong " + wrong.sum());
        }
        for (Thread t : threads) {
            t.join(60_000);
            if (t.isAlive()) {
                problems.add("traffic thread " + t.getName() + " did not finish within 60 s after the deadline");
            }
        }
        // Quiet now: collect garbage, then poke the server so the leak detector reports what it found.
        jcmd("GC.run");
        pokeAfterGc();
        jcmd("GC.run");
        pokeAfterGc();
        Sample end = sample("end (after GC)");
        samples.add(end);
        String metrics = scrape();
        ProcessHandle server = ProcessHandle.of(pid).orElse(null);
        boolean exited = false;
        if (server != null) {
            server.destroy(); // SIGTERM: graceful drain
            exited = server.onExit().get(60, TimeUnit.SECONDS) != null;
        }
        long leaks = Files.readAllLines(serverLog).stream().filter(l -> l.contains("LEAK:")).count();
        long totalLost = total(lost);
        boolean ok = totalLost == 0 && wrong.sum() == 0 && leaks == 0 && problems.isEmpty() && exited;
        Files.createDirectories(report.toAbsolutePath().getParent());
        Files.writeString(report, render(start, samples, metrics, leaks, exited, ok));
        System.err.println("soak: report written to " + report + (ok ? " (PASS)" : " (FAIL)"));
        return ok ? 0 : 1;
    }

    // ---- traffic ----

    private interface Step {
        void run(SplittableRandom random) throws Exception;
    }

    private Thread loop(String name, Step step) {
        return Thread.ofPlatform().name("soak-" + name).daemon().start(() -> {
            SplittableRandom random = new SplittableRandom(name.hashCode());
            while (System.nanoTime() < deadline) {
                try {
                    step.run(random);
                } catch (Exception e) {
                    problems.add(name + ": " + e);
                    if (problems.size() > 50) {
                        return;
                    }
                }
            }
        });
    }

    /** A pipelined batch of valid requests of every op; every answer is checked. */
    private void validBatch(SplittableRandom r) throws IOException {
        try (Conn c = new Conn(host, port)) {
            connections.get(Traffic.VALID).increment();
            for (int batch = 0; batch < 200 && System.nanoTime() < deadline; batch++) {
                int n = r.nextInt(1, 33);
                List<Expect> expects = new ArrayList<>(n);
                ByteBuffer out = ByteBuffer.allocate(n * (16 + 16 * 1024)).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < n; i++) {
                    expects.add(randomValid(r, out));
                }
                c.send(Arrays.copyOf(out.array(), out.position()));
                sent.get(Traffic.VALID).add(n);
                for (Expect e : expects) {
                    Resp resp = c.readOrNull();
                    if (resp == null) {
                        lost.get(Traffic.VALID).add(n - expects.indexOf(e));
                        problems.add("valid: connection closed with answers owed");
                        return;
                    }
                    answered.get(Traffic.VALID).increment();
                    check(e, resp);
                }
            }
        }
    }

    private record Expect(long id, int kind, int op, byte[] payload, String text, int errorCode) {
    }

    private Expect randomValid(SplittableRandom r, ByteBuffer out) {
        long id = ids.getAndIncrement();
        switch (r.nextInt(5)) {
            case 0 -> {
                byte[] p = new byte[r.nextInt(0, 16 * 1024)];
                r.nextBytes(p);
                put(out, 3, 0, id, p);
                return new Expect(id, 3, 0, p, null, 0);
            }
            case 1, 2 -> {
                String[] words = {"straße", "ΣΊΣΥΦΟΣ", "hello", "Ünïcödé", "İstanbul", "ﬁx", "𝔘𝔫𝔦", "plain ascii text"};
                StringBuilder sb = new StringBuilder();
                for (int i = r.nextInt(1, 200); i > 0; i--) {
                    sb.append(words[r.nextInt(words.length)]).append(' ');
                }
                String s = sb.toString();
                boolean upper = r.nextBoolean();
                put(out, 2, upper ? 1 : 2, id, s.getBytes(StandardCharsets.UTF_8));
                return new Expect(id, 2, upper ? 1 : 2, null,
                        upper ? s.toUpperCase(Locale.ROOT) : s.toLowerCase(Locale.ROOT), 0);
            }
            case 3 -> {
                int n = r.nextInt(0, 2048);
                ByteBuffer p = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < n; i++) {
                    p.putFloat((float) r.nextDouble(-1e3, 1e3));
                }
                put(out, 1, 1, id, p.array());
                return new Expect(id, 1, 1, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(n).array(),
                        null, 0);
            }
            default -> {
                int n = r.nextInt(0, 2048);
                ByteBuffer p = ByteBuffer.allocate(8 + 4 * n).order(ByteOrder.LITTLE_ENDIAN);
                p.putFloat(2f).putFloat(1f);
                ByteBuffer want = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < n; i++) {
                    float x = (float) r.nextDouble(-1e3, 1e3);
                    p.putFloat(x);
                    want.putFloat(Math.fma(2f, x, 1f));
                }
                put(out, 1, 2, id, p.array());
                return new Expect(id, 1, 2, want.array(), null, 0);
            }
        }
    }

    private void check(Expect e, Resp resp) {
        boolean right = resp.id == e.id && resp.op == e.op;
        if (e.errorCode != 0) {
            right &= resp.kind == 0xFF && resp.errorCode() == e.errorCode;
        } else {
            right &= resp.kind == (e.kind | 0x80);
            if (right && e.text != null) {
                right = new String(resp.payload, StandardCharsets.UTF_8).equals(e.text);
            } else if (right && e.kind == 1 && e.op == 1) {
                right = Arrays.equals(Arrays.copyOf(resp.payload, 8), e.payload); // STATS count
            } else if (right) {
                right = Arrays.equals(resp.payload, e.payload);
            }
        }
        if (resp.kind == 0xFF) {
            errorsSeen.computeIfAbsent(codeName(resp.errorCode()), k -> new LongAdder()).increment();
        }
        if (!right) {
            wrong.increment();
            problems.add("wrong answer to id " + e.id + " (kind " + e.kind + " op " + e.op + "): kind " + resp.kind
                    + " op " + resp.op + " id " + resp.id);
        }
    }

    /** A valid frame, a malformed one, and (when the error keeps the connection) one more valid one. */
    private void malformed(SplittableRandom r) throws IOException {
        try (Conn c = new Conn(host, port)) {
            connections.get(Traffic.MALFORMED).increment();
            long id = ids.getAndIncrement();
            ByteBuffer out = ByteBuffer.allocate(64 * 1024).order(ByteOrder.LITTLE_ENDIAN);
            put(out, 3, 0, id, "ok".getBytes(StandardCharsets.UTF_8));
            List<Expect> expects = new ArrayList<>();
            expects.add(new Expect(id, 3, 0, "ok".getBytes(StandardCharsets.UTF_8), null, 0));
            long bad = ids.getAndIncrement();
            boolean closes;
            switch (r.nextInt(7)) {
                case 0 -> { // unknown kind
                    put(out, 9, 1, bad, new byte[3]);
                    expects.add(new Expect(bad, 9, 1, null, null, 2));
                    closes = false;
                }
                case 1 -> { // unknown op
                    put(out, 2, 7, bad, new byte[3]);
                    expects.add(new Expect(bad, 2, 7, null, null, 3));
                    closes = false;
                }
                case 2 -> { // SCALE payload of the wrong size
                    put(out, 1, 2, bad, new byte[6]);
                    expects.add(new Expect(bad, 1, 2, null, null, 4));
                    closes = false;
                }
                case 3 -> { // invalid UTF-8
                    put(out, 2, 1, bad, new byte[] {'a', (byte) 0xC0, (byte) 0xAF});
                    expects.add(new Expect(bad, 2, 1, null, null, 6));
                    closes = false;
                }
                case 4 -> { // bad version: closes
                    out.putInt(12).put((byte) 2).put((byte) 3).putShort((short) 0).putLong(bad);
                    expects.add(new Expect(bad, 3, 0, null, null, 1));
                    closes = true;
                }
                case 5 -> { // length < 12: closes, id 0
                    out.putInt(5).put(new byte[12]);
                    expects.add(new Expect(0, 0, 0, null, null, 4));
                    closes = true;
                }
                default -> { // too large: closes, payload never read
                    out.putInt(1 << 30).put((byte) 1).put((byte) 3).putShort((short) 0).putLong(bad);
                    expects.add(new Expect(bad, 3, 0, null, null, 5));
                    closes = true;
                }
            }
            if (!closes) {
                long after = ids.getAndIncrement();
                put(out, 3, 0, after, "after".getBytes(StandardCharsets.UTF_8));
                expects.add(new Expect(after, 3, 0, "after".getBytes(StandardCharsets.UTF_8), null, 0));
            }
            c.send(Arrays.copyOf(out.array(), out.position()));
            sent.get(Traffic.MALFORMED).add(expects.size());
            for (int i = 0; i < expects.size(); i++) {
                Resp resp = c.readOrNull();
                if (resp == null) {
                    lost.get(Traffic.MALFORMED).add(expects.size() - i);
                    problems.add("malformed: closed with answers owed");
                    return;
                }
                answered.get(Traffic.MALFORMED).increment();
                check(expects.get(i), resp);
            }
            if (closes && c.readOrNull() != null) {
                wrong.increment();
                problems.add("malformed: connection not closed after a closing error");
            }
        }
    }

    /** One answered frame, then part of another, then a reset. */
    private void midFrameDisconnect(SplittableRandom r) throws IOException {
        Conn c = new Conn(host, port);
        connections.get(Traffic.MID_FRAME_DISCONNECT).increment();
        long id = ids.getAndIncrement();
        byte[] p = new byte[r.nextInt(1, 64 * 1024)];
        ByteBuffer out = ByteBuffer.allocate(32 + 2 * p.length).order(ByteOrder.LITTLE_ENDIAN);
        put(out, 3, 0, id, p);
        c.send(Arrays.copyOf(out.array(), out.position()));
        sent.get(Traffic.MID_FRAME_DISCONNECT).increment();
        Resp resp = c.readOrNull();
        if (resp == null) {
            lost.get(Traffic.MID_FRAME_DISCONNECT).increment();
        } else {
            answered.get(Traffic.MID_FRAME_DISCONNECT).increment();
            check(new Expect(id, 3, 0, p, null, 0), resp);
        }
        out.clear();
        put(out, 3, 0, ids.getAndIncrement(), p);
        c.send(Arrays.copyOf(out.array(), r.nextInt(1, out.position())));
        abandoned.get(Traffic.MID_FRAME_DISCONNECT).increment();
        c.reset();
    }

    /** Large answers requested, a few bytes of the first one read, then a reset. */
    private void midAnswerDisconnect(SplittableRandom r) throws IOException {
        Conn c = new Conn(host, port);
        connections.get(Traffic.MID_ANSWER_DISCONNECT).increment();
        // At most 512 KiB in flight: below the server's write-buffer high water, so the sender never blocks.
        byte[] p = new byte[128 * 1024];
        r.nextBytes(p);
        int n = r.nextInt(2, 5);
        for (int i = 0; i < n; i++) {
            ByteBuffer out = ByteBuffer.allocate(16 + p.length).order(ByteOrder.LITTLE_ENDIAN);
            put(out, 3, 0, ids.getAndIncrement(), p);
            c.send(out.array());
        }
        sent.get(Traffic.MID_ANSWER_DISCONNECT).add(n);
        c.readSome(r.nextInt(1, 100_000));
        abandoned.get(Traffic.MID_ANSWER_DISCONNECT).add(n);
        c.reset();
    }

    /** Sends far more than the buffers hold without reading, waits, then reads all (or resets). */
    private void stopsReading(SplittableRandom r) throws Exception {
        Conn c = new Conn(host, port);
        connections.get(Traffic.STOPS_READING).increment();
        c.socket.setReceiveBufferSize(64 * 1024);
        int n = 200;
        byte[] p = new byte[64 * 1024];
        r.nextBytes(p);
        long first = ids.getAndAdd(n);
        AtomicLong written = new AtomicLong();
        Thread writer = Thread.ofPlatform().daemon().start(() -> {
            try {
                for (int i = 0; i < n; i++) {
                    ByteBuffer out = ByteBuffer.allocate(16 + p.length).order(ByteOrder.LITTLE_ENDIAN);
                    put(out, 3, 0, first + i, p);
                    c.send(out.array());
                    written.incrementAndGet();
                }
            } catch (IOException closed) {
                // the reset variant closes under the writer
            }
        });
        Thread.sleep(2000); // not reading: the server must pause this connection, not buffer 12.8 MB
        boolean abandon = r.nextInt(4) == 0;
        if (abandon) {
            c.reset();
            writer.join(10_000);
            sent.get(Traffic.STOPS_READING).add(written.get());
            abandoned.get(Traffic.STOPS_READING).add(written.get());
            return;
        }
        for (int i = 0; i < n; i++) {
            Resp resp = c.readOrNull();
            if (resp == null) {
                lost.get(Traffic.STOPS_READING).add(n - i);
                problems.add("stops-reading: closed with answers owed");
                break;
            }
            answered.get(Traffic.STOPS_READING).increment();
            check(new Expect(first + i, 3, 0, p, null, 0), resp);
        }
        writer.join(10_000);
        sent.get(Traffic.STOPS_READING).add(n);
        c.close();
    }

    /** Connect, one request, close; now and then connect and close without a word. */
    private void churn(SplittableRandom r) throws IOException {
        try (Conn c = new Conn(host, port)) {
            connections.get(Traffic.CHURN).increment();
            if (r.nextInt(10) == 0) {
                return;
            }
            long id = ids.getAndIncrement();
            byte[] p = new byte[r.nextInt(0, 512)];
            ByteBuffer out = ByteBuffer.allocate(16 + p.length).order(ByteOrder.LITTLE_ENDIAN);
            put(out, 3, 0, id, p);
            c.send(out.array());
            sent.get(Traffic.CHURN).increment();
            Resp resp = c.readOrNull();
            if (resp == null) {
                lost.get(Traffic.CHURN).increment();
            } else {
                answered.get(Traffic.CHURN).increment();
                check(new Expect(id, 3, 0, p, null, 0), resp);
            }
        }
    }

    /** A frame trickled a byte every 500 ms: the server must close the connection. */
    private void slowloris(SplittableRandom r) throws Exception {
        try (Conn c = new Conn(host, port)) {
            connections.get(Traffic.SLOWLORIS).increment();
            ByteBuffer out = ByteBuffer.allocate(16 + 4096).order(ByteOrder.LITTLE_ENDIAN);
            put(out, 3, 0, ids.getAndIncrement(), new byte[4096]);
            byte[] frame = out.array();
            c.send(Arrays.copyOf(frame, 10));
            abandoned.get(Traffic.SLOWLORIS).increment();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(slowGrace * 4L + 10);
            for (int i = 10; i < frame.length && System.nanoTime() < until; i++) {
                Thread.sleep(500);
                try {
                    c.send(new byte[] {frame[i]});
                } catch (IOException closedByServer) {
                    slowClosed.increment();
                    return;
                }
                if (c.peerClosed()) {
                    slowClosed.increment();
                    return;
                }
            }
            problems.add("slowloris: not closed within " + (slowGrace * 4 + 10) + " s");
        }
    }

    private static void put(ByteBuffer out, int kind, int op, long id, byte[] payload) {
        out.putInt(12 + payload.length).put((byte) 1).put((byte) kind).putShort((short) op).putLong(id).put(payload);
    }

    // ---- sockets ----

    private record Resp(int kind, int op, long id, byte[] payload) {
        int errorCode() {
            return payload.length >= 2 ? (payload[0] & 0xFF) | (payload[1] & 0xFF) << 8 : -1;
        }
    }

    private static final class Conn implements AutoCloseable {
        final Socket socket;
        final OutputStream out;
        final DataInputStream in;

        Conn(String host, int port) throws IOException {
            socket = new Socket();
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(30_000);
            socket.connect(new InetSocketAddress(host, port), 5_000);
            out = socket.getOutputStream();
            in = new DataInputStream(socket.getInputStream());
        }

        void send(byte[] b) throws IOException {
            out.write(b);
            out.flush();
        }

        /** The next response, or null when the server closed (or reset) first. */
        Resp readOrNull() throws IOException {
            try {
                byte[] len = new byte[4];
                in.readFully(len);
                int length = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getInt();
                byte[] rest = new byte[length];
                in.readFully(rest);
                ByteBuffer b = ByteBuffer.wrap(rest).order(ByteOrder.LITTLE_ENDIAN);
                b.get();
                int kind = b.get() & 0xFF;
                int op = b.getShort() & 0xFFFF;
                long id = b.getLong();
                return new Resp(kind, op, id, Arrays.copyOfRange(rest, 12, rest.length));
            } catch (EOFException | java.net.SocketException e) {
                return null;
            }
        }

        void readSome(int bytes) throws IOException {
            in.readNBytes(bytes);
        }

        /** Whether the server has closed: a read returns end of stream within a short wait. */
        boolean peerClosed() throws IOException {
            int old = socket.getSoTimeout();
            socket.setSoTimeout(1);
            try {
                return in.read() == -1;
            } catch (java.net.SocketTimeoutException stillOpen) {
                return false;
            } catch (java.net.SocketException reset) {
                return true;
            } finally {
                socket.setSoTimeout(old);
            }
        }

        void reset() throws IOException {
            socket.setSoLinger(true, 0);
            socket.close();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static String codeName(int code) {
        return switch (code) {
            case 1 -> "bad_version";
            case 2 -> "unknown_kind";
            case 3 -> "unknown_op";
            case 4 -> "malformed";
            case 5 -> "frame_too_large";
            case 6 -> "invalid_utf8";
            case 7 -> "shutting_down";
            case 8 -> "internal";
            default -> "code_" + code;
        };
    }

    // ---- measurements ----

    private record Sample(String when, long rssKiB, double heapUsed, double directUsed, double nettyDirect,
            double gcPauses, double gcPauseSeconds, double gcPauseMax, double openConnections) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%s: rss %d MiB, heap %.0f MiB, direct %.1f MiB, netty direct %.1f MiB, "
                    + "conns %.0f", when, rssKiB / 1024, heapUsed / (1 << 20), directUsed / (1 << 20),
                    nettyDirect / (1 << 20), openConnections);
        }
    }

    private Sample sample(String when) throws Exception {
        long rss = 0;
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                rss = Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        String m = scrape();
        return new Sample(when, rss, sum(m, "jvm_memory_used_bytes{", "area=\"heap\""),
                sum(m, "jvm_buffer_memory_used_bytes{", "id=\"direct\""),
                sum(m, "netty_allocator_memory_used_bytes{", "memory_type=\"direct\""),
                sum(m, "jvm_gc_pause_seconds_count{", ""), sum(m, "jvm_gc_pause_seconds_sum{", ""),
                max(m, "jvm_gc_pause_seconds_max{"), sum(m, "pipeline_connections_active", ""));
    }

    private String scrape() throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(HttpRequest.newBuilder(URI.create("http://" + host + ":" + httpPort + "/metrics"))
                    .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString()).body();
        }
    }

    private static double sum(String metrics, String prefix, String contains) {
        double s = 0;
        for (String line : metrics.split("\n")) {
            if (line.startsWith(prefix) && line.contains(contains)) {
                s += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return s;
    }

    private static double max(String metrics, String prefix) {
        double s = 0;
        for (String line : metrics.split("\n")) {
            if (line.startsWith(prefix)) {
                s = Math.max(s, Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)));
            }
        }
        return s;
    }

    private static Map<String, Double> byLabel(String metrics, String family, String label) {
        Map<String, Double> m = new TreeMap<>();
        for (String line : metrics.split("\n")) {
            if (line.startsWith(family + "{")) {
                int i = line.indexOf(label + "=\"");
                if (i >= 0) {
                    String v = line.substring(i + label.length() + 2, line.indexOf('"', i + label.length() + 2));
                    m.merge(v, Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)), Double::sum);
                }
            }
        }
        return m;
    }

    private void jcmd(String what) {
        try {
            String java = ProcessHandle.current().info().command().orElse("java");
            Path jcmd = Path.of(java).resolveSibling("jcmd");
            Process p = new ProcessBuilder(jcmd.toString(), Long.toString(pid), what).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroy();
            }
        } catch (Exception e) {
            problems.add("jcmd " + what + ": " + e);
        }
    }

    /** New buffers after a GC make the leak detector look at what was collected. */
    private void pokeAfterGc() {
        try (Conn c = new Conn(host, port)) {
            for (int i = 0; i < 50; i++) {
                long id = ids.getAndIncrement();
                ByteBuffer out = ByteBuffer.allocate(16 + 1024).order(ByteOrder.LITTLE_ENDIAN);
                put(out, 3, 0, id, new byte[1024]);
                c.send(out.array());
                c.readOrNull();
            }
        } catch (IOException e) {
            problems.add("poke: " + e);
        }
    }

    private static long total(Map<Traffic, LongAdder> m) {
        return m.values().stream().mapToLong(LongAdder::sum).sum();
    }

    private String render(Instant start, List<Sample> samples, String metrics, long leaks, boolean exited, boolean ok) {
        StringBuilder r = new StringBuilder();
        // RSS grows while the JIT, the heap and the buffer pool warm up; flatness is judged from
        // the sample at about a fifth of the run (the third of about ten) to the end.
        Sample first = samples.get(Math.min(2, samples.size() - 1));
        Sample last = samples.getLast();
        r.append("# Soak test report\n\n");
        r.append("- verdict: **").append(ok ? "PASS" : "FAIL").append("** (lost ").append(total(lost))
                .append(", wrong answers ").append(wrong.sum()).append(", leaks ").append(leaks)
                .append(", server exited cleanly on SIGTERM: ").append(exited).append(")\n");
        r.append("- started ").append(start).append(", traffic for ").append(seconds).append(" s against ")
                .append(host).append(':').append(port).append(", leak detector paranoid\n");
        r.append("- host: ").append(Runtime.getRuntime().availableProcessors()).append(" CPUs (shared)\n\n");
        r.append("## Frames per traffic class\n\n");
        r.append("| class | connections | frames sent | answered | lost | abandoned by the client |\n");
        r.append("|---|---:|---:|---:|---:|---:|\n");
        for (Traffic t : Traffic.values()) {
            r.append("| ").append(t.name().toLowerCase(Locale.ROOT)).append(" | ").append(connections.get(t).sum())
                    .append(" | ").append(sent.get(t).sum()).append(" | ").append(answered.get(t).sum())
                    .append(" | ").append(lost.get(t).sum()).append(" | ").append(abandoned.get(t).sum()).append(" |\n");
        }
        r.append("\n\"Abandoned\": frames (or partial frames) whose connection the client itself reset or let the"
                + " server close (slowloris) before the answer; not owed. Slowloris connections closed by the server: ")
                .append(slowClosed.sum()).append(".\n\n");
        r.append("## Errors by code\n\n| code | seen by clients | server `pipeline_errors_total` |\n|---|---:|---:|\n");
        Map<String, Double> serverErrors = byLabel(metrics, "pipeline_errors_total", "code");
        TreeMap<String, Long> clientErrors = new TreeMap<>();
        errorsSeen.forEach((k, v) -> clientErrors.put(k, v.sum()));
        java.util.Set<String> codes = new java.util.TreeSet<>(serverErrors.keySet());
        codes.addAll(clientErrors.keySet());
        for (String code : codes) {
            r.append("| ").append(code).append(" | ").append(clientErrors.getOrDefault(code, 0L)).append(" | ")
                    .append(String.format(Locale.ROOT, "%.0f", serverErrors.getOrDefault(code, 0.0))).append(" |\n");
        }
        r.append("\n## Refusals (`pipeline_connections_refused_total`)\n\n| reason | count |\n|---|---:|\n");
        byLabel(metrics, "pipeline_connections_refused_total", "reason").forEach((k, v) ->
                r.append("| ").append(k).append(" | ").append(String.format(Locale.ROOT, "%.0f", v)).append(" |\n"));
        r.append("\n## Memory and GC over time\n\n| when | RSS MiB | heap used MiB | JVM direct (java.nio) MiB | Netty pooled direct MiB"
                + " | open conns | GC pauses | GC pause total s | GC pause max s (recent) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Sample s : samples) {
            r.append(String.format(Locale.ROOT, "| %s | %d | %.1f | %.1f | %.1f | %.0f | %.0f | %.3f | %.4f |\n", s.when,
                    s.rssKiB / 1024, s.heapUsed / (1 << 20), s.directUsed / (1 << 20), s.nettyDirect / (1 << 20),
                    s.openConnections, s.gcPauses, s.gcPauseSeconds, s.gcPauseMax));
        }
        r.append(String.format(Locale.ROOT, "%nRSS after warm-up (%s) %d MiB, at the end %d MiB (%+.1f%%).%n",
                first.when, first.rssKiB / 1024, last.rssKiB / 1024,
                100.0 * (last.rssKiB - first.rssKiB) / Math.max(1, first.rssKiB)));
        r.append("\n## Leaks\n\n`LEAK:` lines in the server log (paranoid detection, after two forced GCs and"
                + " fresh allocations, and after the graceful stop): **").append(leaks).append("**\n");
        if (!problems.isEmpty()) {
            r.append("\n## Problems\n\n");
            synchronized (problems) {
                problems.stream().limit(50).forEach(p -> r.append("- ").append(p).append('\n'));
            }
        }
        return r.toString();
    }
}
