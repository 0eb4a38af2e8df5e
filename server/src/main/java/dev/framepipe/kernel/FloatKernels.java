package dev.framepipe.kernel;

import java.lang.foreign.MemorySegment;

/**
 * Float32 kernels over little-endian binary32 values read in place from memory (a frame's
 * payload inside a direct ByteBuf, seen through a {@link MemorySegment}). Implementations
 * allocate nothing per call.
 *
 * <p>Two implementations exist, picked once by {@link Kernels}: one on
 * {@code jdk.incubator.vector}, and a scalar twin with the same results.
 */
public interface FloatKernels {

    /**
     * Folds {@code count} floats starting at byte {@code offset} of {@code segment} into
     * {@code acc} (which may already hold other chunks; see {@link StatsAccumulator#merge}).
     */
    void stats(MemorySegment segment, long offset, int count, StatsAccumulator acc);

    /**
     * Rewrites {@code count} floats at byte {@code offset} in place:
     * {@code x[i] = fma(a, x[i], b)} in binary32, rounded once.
     */
    void scale(MemorySegment segment, long offset, int count, float a, float b);
}
