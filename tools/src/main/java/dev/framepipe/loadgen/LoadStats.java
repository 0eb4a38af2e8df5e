package dev.framepipe.loadgen;

import dev.framepipe.protocol.ErrorCode;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
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
    /** Answers that were wrong: out of order, of the wrong kind, op, size or value. */
    final LongAdder mismatches = new LongAdder();
    /** Requests whose connection closed before their answer came (the server closed it or reset it). */
    final LongAdder lost = new LongAdder();
    /** Requests sent and answers received over the whole run (warm-up too), added as each connection closes. */
    final LongAdder sentTotal = new LongAdder();
    final LongAdder answeredTotal = new LongAdder();
    /** Connections open now. */
    final AtomicInteger open = new AtomicInteger();
    /** Connections that ended before the generator closed them (the server's close or reset). */
    final AtomicInteger closedByServer = new AtomicInteger();
    final ConcurrentLinkedQueue<String> firstProblems = new ConcurrentLinkedQueue<>();
    volatile boolean measuring;
    /** Set before the generator closes its connections at the end: a close after it is the generator's. */
    volatile boolean finishing;

    LoadStats() {
        for (int i = 0; i < errorsByCode.length; i++) {
            errorsByCode[i] = new LongAdder();
        }
    }

    void problem(String what) {
        if (wantsProblems()) {
            firstProblems.add(what);
        }
    }

    /** An error answer with this code: counted, by code, while measuring. */
    void errorCounted(int code) {
        if (measuring) {
            errors.increment();
            errorsByCode[code < errorsByCode.length ? code : 0].increment();
        }
    }

    /** Whether a problem would still be recorded: callers skip building its text when not. */
    boolean wantsProblems() {
        return firstProblems.size() < 20;
    }

    /**
     * Records an error answer's code and message as a problem, so a report names what the server
     * said (for example SHUTTING_DOWN because the connection reached max-connection-age).
     */
    void errorAnswer(String entry, int code, String message) {
        ErrorCode known = ErrorCode.of(code);
        problem(entry + ": error answer " + (known == null ? "code " + code : known.label()) + ": " + message);
    }
}
