package dev.framepipe.pipeline;

import dev.framepipe.protocol.ErrorCode;
import dev.framepipe.codec.OpType;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The counters of one lane (one I/O thread): frames received and completed, errors, transforms,
 * bytes, pauses, and the frame-duration histogram. Only the lane's I/O thread writes them, with
 * plain read-modify-write and an opaque store (a plain {@code mov} on x86: no lock, no fence, no
 * contended cache line), once per frame received and once per batch answered; a scrape reads
 * them with opaque loads, which never see a torn value and see every store eventually. The
 * {@code metrics} package reads them (the pipeline does not know about meters) and sums them
 * across lanes at scrape time. Micrometer's Timer and adders cost about a third of an I/O thread
 * at 700k frames/s (docs/observability.md).
 */
public final class LaneCounters {

    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    /**
     * {@code -Dframepipe.metrics.recording=false} turns every recording method into a no-op. It
     * exists to measure what recording costs (docs/observability.md: the same load with it on
     * and off); a static final is folded by the JIT, so with recording on it costs nothing.
     * Production leaves it on: the meters then read zeros.
     */
    public static final boolean RECORDING = !"false".equals(System.getProperty("framepipe.metrics.recording"));

    public static final int TYPES = OpType.values().length;
    static final int CODES = ErrorCode.values().length;
    static final int PATHS = TransformPath.values().length;
    /** Upper bounds of the duration buckets in nanoseconds; one more bucket holds the rest (+Inf). */
    public static final long[] BUCKET_NANOS = {
        25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000, 25_000_000,
        50_000_000, 100_000_000, 250_000_000, 500_000_000, 1_000_000_000, 2_500_000_000L, 10_000_000_000L
    };
    public static final int BUCKETS = BUCKET_NANOS.length + 1;

    // Indexes into `plain`.
    private static final int RECEIVED = 0;                               // [kind index]
    private static final int COMPLETED_OK = RECEIVED + OpType.KIND_LABELS.length;  // [type]
    private static final int COMPLETED_ERROR = COMPLETED_OK + TYPES;     // [type]
    private static final int ERRORS = COMPLETED_ERROR + TYPES;           // [code]
    private static final int TRANSFORMS = ERRORS + CODES;                // [path]
    private static final int BYTES_IN = TRANSFORMS + PATHS;
    private static final int BYTES_OUT = BYTES_IN + 1;
    private static final int PAUSE_RING_FULL = BYTES_OUT + 1;
    private static final int PAUSE_UNWRITABLE = PAUSE_RING_FULL + 1;
    private static final int DURATION_SUM = PAUSE_UNWRITABLE + 1;        // [type], nanoseconds
    private static final int SIZE = DURATION_SUM + TYPES;

    private final long[] plain = new long[SIZE];
    /** Duration bucket counts, [type * BUCKETS + bucket], not cumulative. */
    private final long[] buckets = new long[TYPES * BUCKETS];

    private static void add(long[] a, int i, long n) {
        LONGS.setOpaque(a, i, a[i] + n);
    }

    private static long read(long[] a, int i) {
        return (long) LONGS.getOpaque(a, i);
    }

    // ---- recording: the owning I/O thread only ----

    public void received(OpType type) {
        if (!RECORDING) {
            return;
        }
        add(plain, RECEIVED + type.kindIndex(), 1);
    }

    /**
     * A response handed to the socket.
     *
     * @param error the error answered, or null for a result
     * @param durationNanos from the frame's decoding to its write-back batch
     */
    public void completed(OpType type, ErrorCode error, long durationNanos) {
        if (!RECORDING) {
            return;
        }
        int t = type.ordinal();
        if (error == null) {
            add(plain, COMPLETED_OK + t, 1);
        } else {
            add(plain, COMPLETED_ERROR + t, 1);
            add(plain, ERRORS + error.ordinal(), 1);
        }
        add(plain, DURATION_SUM + t, durationNanos);
        int b = 0;
        while (b < BUCKET_NANOS.length && durationNanos > BUCKET_NANOS[b]) {
            b++; // most frames land in the first few buckets
        }
        add(buckets, t * BUCKETS + b, 1);
    }

    /**
     * A batch's answers handed to the socket: its tallies of outcomes, errors, transform paths
     * and bytes, and every frame's duration (the batch's frames were decoded together and are
     * written together: one duration, counted once per frame).
     */
    public void completed(Batch b, long durationNanos) {
        if (!RECORDING) {
            return;
        }
        int bucket = 0;
        while (bucket < BUCKET_NANOS.length && durationNanos > BUCKET_NANOS[bucket]) {
            bucket++; // most batches land in the first few buckets
        }
        for (int t = 0; t < TYPES; t++) {
            int ok = b.ok[t];
            int failed = b.failed[t];
            if ((ok | failed) != 0) {
                add(plain, COMPLETED_OK + t, ok);
                add(plain, COMPLETED_ERROR + t, failed);
                add(plain, DURATION_SUM + t, durationNanos * (ok + failed));
                add(buckets, t * BUCKETS + bucket, ok + failed);
            }
        }
        for (int c = 0; c < CODES; c++) {
            if (b.errors[c] != 0) {
                add(plain, ERRORS + c, b.errors[c]);
            }
        }
        for (int p = 0; p < PATHS; p++) {
            if (b.paths[p] != 0) {
                add(plain, TRANSFORMS + p, b.paths[p]);
            }
        }
        add(plain, BYTES_OUT, b.answerBytes);
    }

    public void transform(TransformPath path) {
        if (!RECORDING) {
            return;
        }
        add(plain, TRANSFORMS + path.ordinal(), 1);
    }

    public void bytesIn(long n) {
        if (!RECORDING) {
            return;
        }
        add(plain, BYTES_IN, n);
    }

    public void bytesOut(long n) {
        if (!RECORDING) {
            return;
        }
        add(plain, BYTES_OUT, n);
    }

    public void pausedRingFull() {
        if (!RECORDING) {
            return;
        }
        add(plain, PAUSE_RING_FULL, 1);
    }

    public void pausedUnwritable() {
        if (!RECORDING) {
            return;
        }
        add(plain, PAUSE_UNWRITABLE, 1);
    }

    // ---- reading: any thread ----

    public long received(int kindIndex) {
        return read(plain, RECEIVED + kindIndex);
    }

    public long completed(int type, boolean ok) {
        return read(plain, (ok ? COMPLETED_OK : COMPLETED_ERROR) + type);
    }

    public long errors(int code) {
        return read(plain, ERRORS + code);
    }

    public long transforms(int path) {
        return read(plain, TRANSFORMS + path);
    }

    public long bytesIn() {
        return read(plain, BYTES_IN);
    }

    public long bytesOut() {
        return read(plain, BYTES_OUT);
    }

    public long pausesRingFull() {
        return read(plain, PAUSE_RING_FULL);
    }

    public long pausesUnwritable() {
        return read(plain, PAUSE_UNWRITABLE);
    }

    public long durationSumNanos(int type) {
        return read(plain, DURATION_SUM + type);
    }

    public long bucket(int type, int bucket) {
        return read(buckets, type * BUCKETS + bucket);
    }
}
