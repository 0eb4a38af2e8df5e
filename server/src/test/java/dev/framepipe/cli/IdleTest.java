package dev.framepipe.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.framepipe.testing.FramepipeProcesses;
import dev.framepipe.testing.ProjectFiles;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nothing runs when nothing arrives: a {@code serve} process with no client, once started,
 * neither uses CPU nor wakes its threads more than an idle process should (docs/footprint.md lists
 * every thread that wakes and why). Measured from outside, in /proc: the process's CPU time over
 * a 15 s window, and each thread's voluntary context switches, which count its wake-ups (a thread
 * that blocks again after each one) and do not grow when the machine is busy: a thread that is
 * never runnable is never switched. A thread that spins instead of blocking shows in the CPU time.
 * The server runs with the launcher's memory options (bin/framepipe's SERVE_FLAGS) and its full
 * kernel warm-up, so that its resident memory afterwards is what {@code bin/framepipe serve}
 * leaves: at most 256 MiB, the warm-up's garbage given back.
 */
@EnabledOnOs(OS.LINUX)
class IdleTest {

    /**
     * The target is 0.2 % of a core (measured: 0.1-0.2 %); five times that leaves room for the
     * JVM's own housekeeping on a machine busy with other tests, while one thread polling every
     * millisecond, or spinning, costs more than 1 % on its own.
     */
    static final double MAX_CPU_SHARE = 0.01;
    /**
     * framepipe's threads (names starting with "framepipe"): Netty's event loops wake about once
     * a second, the workers and drains never; a timer of a few hundred milliseconds would show.
     */
    static final double MAX_WAKEUPS_PER_THREAD = 3;
    static final double MAX_FRAMEPIPE_WAKEUPS = 10;
    /**
     * Every thread of the process: the JVM's own wake about 27 times a second (G1's refinement
     * thread 20, monitor deflation 4, the service threads 1 each); a bound of 100 still catches a
     * framepipe thread that wakes on a timer of a few milliseconds.
     */
    static final double MAX_WAKEUPS_TOTAL = 100;
    /** The JIT's compiler threads, busy with what the warm-up queued; the window starts once they rest. */
    static final Duration COMPILER_QUIET = Duration.ofSeconds(2);
    static final Duration SETTLE_LIMIT = Duration.ofSeconds(120);
    static final Duration WINDOW = Duration.ofSeconds(15);
    /**
     * The target for the resident memory of an idle server (measured: 140-170 MiB with the AOT
     * cache, which this test's class-path run has not; without it less is mapped, not more).
     */
    static final long MAX_IDLE_RSS_KIB = 256 * 1024;

    /** The memory options bin/framepipe gives {@code serve} (its SERVE_FLAGS line). */
    static List<String> launcherServeFlags() throws IOException {
        Matcher m = Pattern.compile("(?m)^SERVE_FLAGS=\\(([^)]*)\\)").matcher(Files.readString(ProjectFiles.path("bin", "framepipe")));
        assertThat(m.find()).as("bin/framepipe sets SERVE_FLAGS").isTrue();
        return List.of(m.group(1).trim().split("\\s+"));
    }

    @TempDir
    Path tmp;

    @Test
    void anIdleServerUsesNoCpuAndWakesItsThreadsRarely() throws Exception {
        int framePort = FramepipeProcesses.freePort();
        int httpPort = FramepipeProcesses.freePort();
        Path log = tmp.resolve("serve.log");
        List<String> flags = launcherServeFlags();
        assertThat(flags).contains("-Xmx256m", "-XX:MaxDirectMemorySize=384m");
        // The full warm-up, whose garbage must not stay resident. Two I/O threads and four workers,
        // so that both drain modes run: with more workers than I/O threads a drain parks between bursts.
        Process p = FramepipeProcesses.framepipe(flags, "serve", "--bind-address", "127.0.0.1", "--frame-port", "" + framePort,
                "--http-port", "" + httpPort, "--io-threads", "2", "--worker-parallelism", "4", "--drain-delay", "0s",
                "--log-format", "text")
                .redirectOutput(log.toFile()).start();
        try {
            HttpClient http = HttpClient.newHttpClient();
            URI ready = URI.create("http://127.0.0.1:" + httpPort + "/health/ready");
            await().atMost(Duration.ofSeconds(120)).ignoreExceptions().until(() ->
                    http.send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
            long pid = p.pid();
            awaitCompilersQuiet(pid);
            // the start-up report names the limits the launcher's flags set
            assertThat(Files.readString(log)).containsPattern(
                    "framepipe ready [0-9.]+ s after the JVM started; heap max 256 MiB, direct memory max 384 MiB; "
                            + "no AOT cache \\(-XX:AOTCache not given\\)");

            long cpuBefore = processCpuTicks(pid);
            Map<String, Long> before = switchesByThread(pid);
            long start = System.nanoTime();
            Thread.sleep(WINDOW);
            double seconds = (System.nanoTime() - start) / 1e9;
            long cpuAfter = processCpuTicks(pid);
            Map<String, Long> after = switchesByThread(pid);

            double cpuShare = (cpuAfter - cpuBefore) / (double) CLOCK_TICKS / seconds;
            Map<String, Double> rates = new TreeMap<>();
            after.forEach((thread, n) -> {
                double rate = (n - before.getOrDefault(thread, 0L)) / seconds;
                if (rate > 0) {
                    rates.put(thread, Math.round(rate * 100) / 100.0);
                }
            });
            long rssKib = residentKib(pid);
            String report = String.format(java.util.Locale.ROOT,
                    "resident %d MiB; CPU %.3f %% of a core over %.0f s; wake-ups per second by thread: %s",
                    rssKib / 1024, cpuShare * 100, seconds, rates);
            System.out.println("IdleTest: " + report); // the figures, for docs/footprint.md
            assertThat(rssKib).as(report).isLessThanOrEqualTo(MAX_IDLE_RSS_KIB);
            assertThat(cpuShare).as(report).isLessThanOrEqualTo(MAX_CPU_SHARE);
            double framepipe = 0;
            for (Map.Entry<String, Double> e : rates.entrySet()) {
                if (e.getKey().startsWith("framepipe")) {
                    assertThat(e.getValue()).as(e.getKey() + "; " + report).isLessThanOrEqualTo(MAX_WAKEUPS_PER_THREAD);
                    framepipe += e.getValue();
                }
            }
            assertThat(framepipe).as("framepipe's threads; " + report).isLessThanOrEqualTo(MAX_FRAMEPIPE_WAKEUPS);
            assertThat(rates.values().stream().mapToDouble(Double::doubleValue).sum()).as(report)
                    .isLessThanOrEqualTo(MAX_WAKEUPS_TOTAL);
            // the threads measured are the server's: its I/O, accept and HTTP loops are among them
            assertThat(after.keySet()).as(report).anyMatch(t -> t.startsWith("framepipe-io"))
                    .anyMatch(t -> t.startsWith("framepipe-accep")).anyMatch(t -> t.startsWith("framepipe-http"));
        } finally {
            p.destroy();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    /**
     * Waits until the JIT's compiler threads have used no CPU for {@link #COMPILER_QUIET}: what
     * the short warm-up left queued is compiled by then (on a busy machine that takes a while).
     */
    static void awaitCompilersQuiet(long pid) throws Exception {
        long deadline = System.nanoTime() + SETTLE_LIMIT.toNanos();
        long last = compilerCpuTicks(pid);
        long quietSince = System.nanoTime();
        while (System.nanoTime() - quietSince < COMPILER_QUIET.toNanos()) {
            assertThat(System.nanoTime()).as("the JIT still compiling %s after ready", SETTLE_LIMIT).isLessThan(deadline);
            Thread.sleep(200);
            long now = compilerCpuTicks(pid);
            if (now != last) {
                last = now;
                quietSince = System.nanoTime();
            }
        }
    }

    /** CPU time of the compiler threads ("C1 CompilerThre", "C2 CompilerThre"), in clock ticks. */
    static long compilerCpuTicks(long pid) throws IOException {
        long ticks = 0;
        try (Stream<Path> tasks = Files.list(Path.of("/proc", "" + pid, "task"))) {
            for (Path task : tasks.toList()) {
                try {
                    if (Files.readString(task.resolve("comm")).contains("CompilerThre")) {
                        ticks += cpuTicks(Files.readString(task.resolve("stat")));
                    }
                } catch (IOException e) {
                    // the thread ended meanwhile (compiler threads come and go)
                }
            }
        }
        return ticks;
    }

    /** VmRSS of the process, in KiB. */
    static long residentKib(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", "" + pid, "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/" + pid + "/status");
    }

    /** USER_HZ: the unit of /proc's CPU times, 100 on Linux everywhere that matters. */
    static final int CLOCK_TICKS = 100;

    /** utime + stime of the whole process (every thread, live and ended), in clock ticks. */
    static long processCpuTicks(long pid) throws IOException {
        return cpuTicks(Files.readString(Path.of("/proc", "" + pid, "stat")));
    }

    /** utime + stime (fields 14 and 15) of a /proc stat line; the name in parentheses may hold spaces. */
    static long cpuTicks(String stat) {
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    /**
     * Voluntary context switches of each thread (one per wake-up: the thread blocks again), by
     * name and id, from /proc/PID/task/TID/status.
     */
    static Map<String, Long> switchesByThread(long pid) throws IOException {
        Map<String, Long> byThread = new HashMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc", "" + pid, "task"))) {
            for (Path task : tasks.toList()) {
                try {
                    String name = Files.readString(task.resolve("comm")).trim() + "/" + task.getFileName();
                    for (String line : Files.readAllLines(task.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:")) {
                            byThread.put(name, Long.parseLong(line.substring(line.indexOf(':') + 1).trim()));
                        }
                    }
                } catch (IOException e) {
                    // the thread ended meanwhile
                }
            }
        }
        return byThread;
    }
}
