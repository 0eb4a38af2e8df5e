package dev.framepipe.kernel.bench;

import dev.framepipe.kernel.CountResult;
import dev.framepipe.kernel.ScalarTextKernels;
import dev.framepipe.kernel.TextKernels;
import dev.framepipe.kernel.vector.VectorKernels;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * UTF-8 kernels on ASCII text (words, spaces, newlines, mixed case): vector vs scalar twin vs
 * a plain vectorized read, off-heap through the pipeline's global segment, unaligned start.
 * The case-mapping benchmarks map UPPER then LOWER in place per op, so both really rewrite.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class TextKernelsBench {

    static final MemorySegment GLOBAL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    static final VectorSpecies<Long> LS = LongVector.SPECIES_PREFERRED;

    @Param({"16", "1024", "65536", "1048576", "16777216"})
    int bytes;

    Arena arena;
    long address;
    long upperAddress; // a copy that is already upper case: UPPER leaves it UNCHANGED
    final CountResult out = new CountResult();
    final TextKernels vector = VectorKernels.text();
    final TextKernels scalar = new ScalarTextKernels();

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        MemorySegment seg = arena.allocate(bytes + 64L, 64);
        MemorySegment up = arena.allocate(bytes + 64L, 64);
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < bytes; i++) {
            int k = r.nextInt(100);
            byte b = (byte) (k < 15 ? ' ' : k < 17 ? '\n' : k < 20 ? 'A' + r.nextInt(26)
                    : k < 25 ? '0' + r.nextInt(10) : 'a' + r.nextInt(26));
            seg.set(ValueLayout.JAVA_BYTE, 3 + i, b);
            up.set(ValueLayout.JAVA_BYTE, 3 + i, (byte) Character.toUpperCase(b));
        }
        address = seg.address() + 3;
        upperAddress = up.address() + 3;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public long validateVector() {
        return vector.validateUtf8(GLOBAL, address, bytes);
    }

    @Benchmark
    public long validateScalar() {
        return scalar.validateUtf8(GLOBAL, address, bytes);
    }

    @Benchmark
    public long countVector() {
        vector.count(GLOBAL, address, bytes, out);
        return out.words;
    }

    @Benchmark
    public long countScalar() {
        scalar.count(GLOBAL, address, bytes, out);
        return out.words;
    }

    @Benchmark
    public long upperLowerVector() {
        return vector.caseMapInPlace(GLOBAL, address, bytes, true) + vector.caseMapInPlace(GLOBAL, address, bytes, false);
    }

    @Benchmark
    public long upperLowerScalar() {
        return scalar.caseMapInPlace(GLOBAL, address, bytes, true) + scalar.caseMapInPlace(GLOBAL, address, bytes, false);
    }

    /** UPPER of text that is already upper case: the read-only "anything to change?" path. */
    @Benchmark
    public long upperUnchangedVector() {
        return vector.caseMapInPlace(GLOBAL, upperAddress, bytes, true);
    }

    @Benchmark
    public long upperUnchangedScalar() {
        return scalar.caseMapInPlace(GLOBAL, upperAddress, bytes, true);
    }

    /** Memory-read baseline: vectorized sum of the same bytes as longs. */
    @Benchmark
    public long readBaseline() {
        long end = address + bytes - bytes % (LS.length() * 8L);
        LongVector s = LongVector.zero(LS);
        long p = address;
        long step = LS.length() * 8L;
        for (; p < end; p += step) {
            s = s.add(LongVector.fromMemorySegment(LS, GLOBAL, p, ByteOrder.LITTLE_ENDIAN));
        }
        long sum = s.reduceLanes(VectorOperators.ADD);
        for (; p < address + bytes; p++) {
            sum += GLOBAL.get(ValueLayout.JAVA_BYTE, p);
        }
        return sum;
    }
}
