package dev.framepipe.loadgen;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Recorder;

/**
 * What the connections of one run record, shared between the connections' event loops (writers)
 * and the reporter (reader): wait-free counters and an HdrHistogram {@link Recorder} of latency
 * in nanoseconds. Only answers that arrive while {@link #measuring} count.
 */
final class LoadStats {

    /** Latencies up to one minute, 3 significant digits. */
    final Recorder latency = new Recorder(60_000_000_000L, 3);
    final LongAdder frames = new LongAdder();
    final LongAdder requestBytes = new LongAdder();
    final LongAdder responseBytes = new LongAdder();
    final LongAdder errors = new LongAdder();
    final LongAdder[] errorsByCode = new LongAdder[9];
    final LongAdder mismatches = new LongAdder();
    final ConcurrentLinkedQueue<String> firstProblems = new ConcurrentLinkedQueue<>();
    volatile boolean measuring;

    LoadStats() {
        for (int i = 0; i < errorsByCode.length; i++) {
            errorsByCode[i] = new LongAdder();
        }
    }

    void problem(String what) {
        if (firstProblems.size() < 20) {
            firstProblems.add(what);
        }
    }
}
