package dev.framepipe.kernel;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;

/**
 * STATS and SCALE of a large float range split into chunks on a {@link ForkJoinPool}.
 *
 * <p>The range is halved recursively (split points on {@link ScalarFloatKernels#BLOCK}
 * boundaries) until a piece holds at most {@code thresholdFloats}; each leaf folds into its own
 * {@link StatsAccumulator}, and the halves are merged with the exact parallel formula, so the
 * result meets the same accuracy bounds as one pass. Callable from inside a worker of
 * {@code pool}: the caller forks one half and computes the other itself, so it helps rather
 * than blocks. Allocation: one task and one accumulator per tree node; nothing when the range
 * is at most the threshold.
 */
public final class ParallelFloatKernels {

    private ParallelFloatKernels() {
    }

    /** Folds {@code count} floats at {@code offset} into {@code out}, in parallel above the threshold. */
    public static void statsParallel(FloatKernels k, ForkJoinPool pool, MemorySegment seg, long offset,
                                     int count, int thresholdFloats, StatsAccumulator out) {
        int threshold = Math.max(thresholdFloats, ScalarFloatKernels.BLOCK);
        if (count <= threshold) {
            k.stats(seg, offset, count, out);
            return;
        }
        StatsTask task = new StatsTask(k, seg, offset, count, threshold);
        run(pool, task);
        out.merge(task.acc);
    }

    /** SCALE of {@code count} floats at {@code offset} in place, in parallel above the threshold. */
    public static void scaleParallel(FloatKernels k, ForkJoinPool pool, MemorySegment seg, long offset,
                                     int count, int thresholdFloats, float a, float b) {
        int threshold = Math.max(thresholdFloats, ScalarFloatKernels.BLOCK);
        if (count <= threshold) {
            k.scale(seg, offset, count, a, b);
            return;
        }
        run(pool, new ScaleTask(k, seg, offset, count, threshold, a, b));
    }

    private static void run(ForkJoinPool pool, ForkJoinTask<?> task) {
        if (ForkJoinTask.getPool() == pool) {
            task.invoke(); // already a worker of this pool: run here, fork the halves
        } else {
            pool.invoke(task);
        }
    }

    /** Split point of {@code count} floats: the middle rounded down to a whole block. */
    static int split(int count) {
        int half = count >>> 1;
        int aligned = half - half % ScalarFloatKernels.BLOCK;
        return aligned > 0 ? aligned : half;
    }

    private static final class StatsTask extends RecursiveAction {
        private final FloatKernels k;
        private final MemorySegment seg;
        private final long offset;
        private final int count;
        private final int threshold;
        final StatsAccumulator acc = new StatsAccumulator();

        StatsTask(FloatKernels k, MemorySegment seg, long offset, int count, int threshold) {
            this.k = k;
            this.seg = seg;
            this.offset = offset;
            this.count = count;
            this.threshold = threshold;
        }

        @Override
        protected void compute() {
            if (count <= threshold) {
                k.stats(seg, offset, count, acc);
                return;
            }
            int left = split(count);
            StatsTask l = new StatsTask(k, seg, offset, left, threshold);
            StatsTask r = new StatsTask(k, seg, offset + (long) left * Float.BYTES, count - left, threshold);
            r.fork();
            l.compute();
            if (r.tryUnfork()) {
                r.compute(); // nobody stole it: no join overhead
            } else {
                r.join();
            }
            acc.merge(l.acc);
            acc.merge(r.acc);
        }
    }

    private static final class ScaleTask extends RecursiveAction {
        private final FloatKernels k;
        private final MemorySegment seg;
        private final long offset;
        private final int count;
        private final int threshold;
        private final float a;
        private final float b;

        ScaleTask(FloatKernels k, MemorySegment seg, long offset, int count, int threshold, float a, float b) {
            this.k = k;
            this.seg = seg;
            this.offset = offset;
            this.count = count;
            this.threshold = threshold;
            this.a = a;
            this.b = b;
        }

        @Override
        protected void compute() {
            if (count <= threshold) {
                k.scale(seg, offset, count, a, b);
                return;
            }
            int left = split(count);
            ScaleTask r = new ScaleTask(k, seg, offset + (long) left * Float.BYTES, count - left, threshold, a, b);
            r.fork();
            new ScaleTask(k, seg, offset, left, threshold, a, b).compute();
            if (r.tryUnfork()) {
                r.compute();
            } else {
                r.join();
            }
        }
    }
}
