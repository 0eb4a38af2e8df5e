package dev.framepipe.kernel.bench;

import dev.framepipe.kernel.FloatKernels;
import dev.framepipe.kernel.ScalarFloatKernels;
import dev.framepipe.kernel.StatsAccumulator;
import dev.framepipe.kernel.vector.StatsVariants;
import dev.framepipe.kernel.vector.VectorKernels;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Noise-robust companion to {@link FloatKernelsBench} for a busy machine: runs
 * the STATS variants round-robin in one JVM (so load drift hits all alike) and times each slice
 * in thread CPU time (time spent descheduled does not count). Prints the median ns per op.
 * All variants share {@code StatsVariants.run}, so only a few are included: with more of them
 * C2 stopped intrinsifying some (they ran ~10x slower here than in JMH's separate forks).
 * Usage: java --add-modules=jdk.incubator.vector -cp benchmarks.jar
 * dev.framepipe.kernel.bench.StatsInterleaved [floats...]
 */
public final class StatsInterleaved {

    static final MemorySegment GLOBAL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    static volatile double sink;

    public static void main(String[] args) {
        int[] sizes = args.length == 0 ? new int[] {1024, 65536} : Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        FloatKernels vector = VectorKernels.floats();
        FloatKernels scalar = new ScalarFloatKernels();
        String[] names = {"vector (one pass)", "two pass (before)", "one pass 4096", "one pass 2 acc", "scalar"};
        StatsVariants.Stats[] ks = {vector::stats, StatsVariants.TWO_PASS, 
            StatsVariants.ONE_PASS_4096, StatsVariants.ONE_PASS_2ACC, scalar::stats};
        for (int floats : sizes) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment seg = arena.allocate(4L * floats + 128, 64);
                SplittableRandom r = new SplittableRandom(42);
                for (int i = 0; i < floats; i++) {
                    seg.set(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4 + 4L * i,
                            (float) (1000 + r.nextGaussian()));
                }
                long address = seg.address() + 4;
                StatsAccumulator acc = new StatsAccumulator();
                int reps = Math.max(1, (1 << 22) / floats); // ~16 MB of input per slice
                int rounds = 40;
                double[][] ns = new double[ks.length][rounds];
                for (int round = -10; round < rounds; round++) { // 10 warm-up rounds
                    for (int v = 0; v < ks.length; v++) {
                        long t0 = mx.getCurrentThreadCpuTime();
                        for (int i = 0; i < reps; i++) {
                            acc.reset();
                            ks[v].stats(GLOBAL, address, floats, acc);
                            sink += acc.variance();
                        }
                        long t1 = mx.getCurrentThreadCpuTime();
                        if (round >= 0) {
                            ns[v][round] = (double) (t1 - t0) / reps;
                        }
                    }
                }
                double scalarMed = median(ns[ks.length - 1]);
                for (int v = 0; v < ks.length; v++) {
                    double med = median(ns[v]);
                    System.out.printf("floats=%-9d %-22s %12.1f ns/op  %6.2f GB/s  x%.2f vs scalar%n", floats, names[v], med,
                            4.0 * floats / med, scalarMed / med);
                }
            }
        }
    }

    static double median(double[] a) {
        double[] c = a.clone();
        Arrays.sort(c);
        return c[c.length / 2];
    }
}
