package dev.framepipe.metrics;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadFactory;

/**
 * The heap bytes the service's own threads (I/O and workers) have allocated, read from
 * the JVM's per-thread allocation counters. A thread that ends keeps its last reading in a
 * retired total, so the sum never goes backwards (ForkJoinPool workers come and go).
 */
public final class ThreadAllocations {

    public enum Group { IO, WORKER }

    private static final com.sun.management.ThreadMXBean MX =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private final List<Thread>[] threads;
    private final long[][] lastReading;
    private final long[] retired = new long[Group.values().length];

    @SuppressWarnings("unchecked")
    public ThreadAllocations() {
        threads = new List[Group.values().length];
        lastReading = new long[Group.values().length][];
        for (int i = 0; i < threads.length; i++) {
            threads[i] = new ArrayList<>();
            lastReading[i] = new long[0];
        }
        if (MX.isThreadAllocatedMemorySupported() && !MX.isThreadAllocatedMemoryEnabled()) {
            MX.setThreadAllocatedMemoryEnabled(true);
        }
    }

    /** Wraps a thread factory so that every thread it makes counts as an I/O thread. */
    public ThreadFactory ioThreadFactory(ThreadFactory delegate) {
        return r -> {
            Thread t = delegate.newThread(r);
            register(Group.IO, t);
            return t;
        };
    }

    public void registerWorker(Thread t) {
        register(Group.WORKER, t);
    }

    private synchronized void register(Group g, Thread t) {
        threads[g.ordinal()].add(t);
        lastReading[g.ordinal()] = java.util.Arrays.copyOf(lastReading[g.ordinal()], threads[g.ordinal()].size());
    }

    /** Heap bytes allocated so far by the threads of {@code g}, living and ended. */
    public synchronized long allocatedBytes(Group g) {
        int gi = g.ordinal();
        List<Thread> list = threads[gi];
        long[] last = lastReading[gi];
        long sum = retired[gi];
        int kept = 0;
        for (int i = 0; i < list.size(); i++) {
            Thread t = list.get(i);
            long now = t.isAlive() ? MX.getThreadAllocatedBytes(t.threadId()) : -1;
            if (now < 0) {
                retired[gi] += last[i];
                sum += last[i];
                continue;
            }
            list.set(kept, t);
            last[kept] = now;
            kept++;
            sum += now;
        }
        while (list.size() > kept) {
            list.removeLast();
        }
        return sum;
    }

}
