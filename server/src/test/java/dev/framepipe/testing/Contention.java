package dev.framepipe.testing;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * The suite's contention mode ({@code -Dframepipe.contention=true}; the surefire execution
 * "contention" runs the connection, drain, back-pressure and limit tests in it): races, limits
 * and close paths fail when threads are late, so while the tests run, other work keeps both
 * cores busy, and test clients pause at random.
 *
 * <ul>
 *   <li>Competing processes: one busy shell loop per CPU, outside this JVM, so the server's
 *       threads are descheduled as they are on a loaded host.</li>
 *   <li>Competing threads in this JVM: one per CPU, each running for a random 0-2 ms, then
 *       sleeping for a random 0-2 ms (they also take safepoints and allocate).</li>
 *   <li>{@link #pause()}: test clients call it between writes and reads; in contention mode it
 *       sleeps for a random 0-3 ms, or yields, so the server sees uneven arrivals.</li>
 *   <li>{@link #rounds(int)}: tests that repeat a scenario repeat it
 *       {@code framepipe.contention.repeat} times as often (default 1).</li>
 * </ul>
 * Installed as a {@link LauncherSessionListener}: the load starts before the first test of the
 * JVM and stops after the last. Without the property nothing here runs.
 */
public final class Contention implements LauncherSessionListener {

    /** Whether this test JVM runs in contention mode. */
    public static final boolean ON = Boolean.getBoolean("framepipe.contention");

    private static final List<Process> processes = new ArrayList<>();
    private static final List<Thread> threads = new ArrayList<>();
    private static volatile boolean running;

    /**
     * Repetitions of a scenario under contention ({@code -Dframepipe.contention.repeat}, 1 in
     * CI, where the contention execution must stay within a few minutes; raise it to hunt a
     * rare race).
     */
    private static final int REPEAT = Math.max(1, Integer.getInteger("framepipe.contention.repeat", 1));

    /** How many times to repeat a scenario: {@code normal}, times the repeat factor under contention. */
    public static int rounds(int normal) {
        return ON ? REPEAT * normal : normal;
    }

    /** A random pause of a test client under contention (0-3 ms, or a yield); nothing otherwise. */
    public static void pause() {
        if (!ON) {
            return;
        }
        int r = ThreadLocalRandom.current().nextInt(8);
        if (r == 0) {
            Thread.yield();
        } else if (r < 4) {
            LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(3_000_000));
        }
    }

    @Override
    public void launcherSessionOpened(LauncherSession session) {
        if (!ON) {
            return;
        }
        running = true;
        int cpus = Runtime.getRuntime().availableProcessors();
        for (int i = 0; i < cpus; i++) {
            try {
                processes.add(new ProcessBuilder("sh", "-c", "while :; do :; done").start());
            } catch (IOException e) {
                throw new IllegalStateException("contention mode: cannot start a busy process", e);
            }
            Thread t = new Thread(Contention::busy, "contention-" + i);
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
        System.err.println("contention mode: " + cpus + " busy processes and " + cpus + " busy threads");
    }

    @Override
    public void launcherSessionClosed(LauncherSession session) {
        running = false;
        for (Process p : processes) {
            p.destroyForcibly();
        }
        processes.clear();
    }

    private static void busy() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long sink = 0;
        while (running) {
            long until = System.nanoTime() + random.nextLong(2_000_000);
            while (System.nanoTime() < until) {
                sink += new long[16].length; // allocation: young GCs and safepoints, as real neighbours cause
            }
            LockSupport.parkNanos(random.nextLong(2_000_000));
        }
        if (sink == 42) {
            System.err.print("");
        }
    }
}
