package dev.framepipe.pipeline;

import dev.framepipe.kernel.FloatKernels;
import dev.framepipe.kernel.StatsAccumulator;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/**
 * Work stealing for large FLOATS frames: the range is halved until a piece holds at most
 * {@code threshold} floats; pieces run on the ForkJoinPool (the calling worker helps), and
 * STATS partials are merged exactly with the parallel variance formula.
 */
final class ParallelFloats {

    private ParallelFloats() {
    }

    static void stats(FloatKernels k, ForkJoinPool pool, MemorySegment seg, long off, int count, int threshold,
                      StatsAccumulator out) {
        StatsTask task = new StatsTask(k, seg, off, count, threshold);
        run(pool, task);
        out.merge(task.acc);
    }

    static void scale(FloatKernels k, ForkJoinPool pool, MemorySegment seg, long off, int count, float a, float b,
                      int threshold) {
        run(pool, new ScaleTask(k, seg, off, count, a, b, threshold));
    }

    private static void run(ForkJoinPool pool, RecursiveAction task) {
        if (ForkJoinPool.commonPool() != pool && java.util.concurrent.ForkJoinTask.getPool() == pool) {
            task.invoke(); // already on a worker of this pool: fork/join in place
        } else {
            pool.invoke(task);
        }
    }

    private static final class StatsTask extends RecursiveAction {
        private final FloatKernels k;
        private final MemorySegment seg;
        private final long off;
        private final int count;
        private final int threshold;
        final StatsAccumulator acc = new StatsAccumulator();

        StatsTask(FloatKernels k, MemorySegment seg, long off, int count, int threshold) {
            this.k = k;
            this.seg = seg;
            this.off = off;
            this.count = count;
            this.threshold = threshold;
        }

        @Override
        protected void compute() {
            if (count <= threshold) {
                k.stats(seg, off, count, acc);
                return;
            }
            int left = count >>> 1;
            StatsTask l = new StatsTask(k, seg, off, left, threshold);
            StatsTask r = new StatsTask(k, seg, off + 4L * left, count - left, threshold);
            invokeAll(l, r);
            acc.merge(l.acc); // left then right: the same order as a single pass
            acc.merge(r.acc);
        }
    }

    private static final class ScaleTask extends RecursiveAction {
        private final FloatKernels k;
        private final MemorySegment seg;
        private final long off;
        private final int count;
        private final float a;
        private final float b;
        private final int threshold;

        ScaleTask(FloatKernels k, MemorySegment seg, long off, int count, float a, float b, int threshold) {
            this.k = k;
            this.seg = seg;
            this.off = off;
            this.count = count;
            this.a = a;
            this.b = b;
            this.threshold = threshold;
        }

        @Override
        protected void compute() {
            if (count <= threshold) {
                k.scale(seg, off, count, a, b);
                return;
            }
            int left = count >>> 1;
            invokeAll(new ScaleTask(k, seg, off, left, a, b, threshold),
                    new ScaleTask(k, seg, off + 4L * left, count - left, a, b, threshold));
        }
    }
}
