package dev.framepipe.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.framepipe.kernel.vector.VectorKernels;
import dev.framepipe.kernel.vector.VectorPaths;
import dev.framepipe.kernel.vector.VectorPaths.Op;
import dev.framepipe.codec.MemoryViews;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Test fixtures: every kernel implementation, and memory placed the way the pipeline passes it.
 *
 * <p>The vector implementations are wrapped so that every call checks it ran vector code
 * ({@link VectorPaths}): a vector kernel given memory it does not vectorize would hand it to its
 * scalar twin, and a "vector" test would compare the scalar code with itself. Test classes add
 * {@link VectorCallCheck} to check the totals per test as well (calls from several threads).
 */
final class Impls {

    private Impls() {
    }

    record Named<T>(String name, T impl) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Named<FloatKernels>> floats() {
        return List.of(new Named<>("scalar", new ScalarFloatKernels()),
                new Named<>("vector", new CheckedVectorFloats(vectorFloats())));
    }

    static List<Named<TextKernels>> text() {
        return List.of(new Named<>("scalar", new ScalarTextKernels()),
                new Named<>("vector", new CheckedVectorText(vectorText())));
    }

    /**
     * The vector kernels. Their absence is a failure, not a reason to test less: the build ships
     * them, the test JVM runs with {@code --add-modules=jdk.incubator.vector}, and the service
     * would run them.
     */
    static FloatKernels vectorFloats() {
        assertCounting();
        return VectorKernels.floats();
    }

    static TextKernels vectorText() {
        assertCounting();
        return VectorKernels.text();
    }

    private static void assertCounting() {
        assertThat(VectorPaths.counting())
                .as("the test JVM runs with -D%s=true (pom.xml), so tests can see the vector code run",
                        VectorPaths.PROPERTY)
                .isTrue();
    }

    // ---------------------------------------------------------------- vector paths

    /** Calls the wrappers made, per op: what {@link VectorPaths} must have counted. */
    private static final AtomicLongArray EXPECTED = new AtomicLongArray(Op.values().length);

    /**
     * Checks that {@code op}'s vector code counted the call made since {@code before} (the count
     * read just before it). No lambda here: the allocation tests run through these wrappers. A
     * call made while another thread runs the same op could be credited with that thread's
     * count; the per-test totals of {@link VectorCallCheck} catch that case.
     */
    private static void ranVectorCode(Op op, long before, long units) {
        EXPECTED.incrementAndGet(op.ordinal());
        if (VectorPaths.calls(op) == before) {
            throw new AssertionError("vector " + op + " of " + units + " units did not run its vector code");
        }
    }

    /**
     * JUnit extension: after each test, every call the vector wrappers made in it was counted by
     * the vector code, no more and no fewer (the kernel tests run one at a time, and nothing else
     * in their JVM calls the vector kernels meanwhile).
     */
    static final class VectorCallCheck implements BeforeEachCallback, AfterEachCallback {
        private final long[] seen = new long[Op.values().length];
        private final long[] expected = new long[Op.values().length];

        @Override
        public void beforeEach(ExtensionContext context) {
            for (Op op : Op.values()) {
                seen[op.ordinal()] = VectorPaths.calls(op);
                expected[op.ordinal()] = EXPECTED.get(op.ordinal());
            }
        }

        @Override
        public void afterEach(ExtensionContext context) {
            for (Op op : Op.values()) {
                assertThat(VectorPaths.calls(op) - seen[op.ordinal()])
                        .as("%s: calls that ran vector code, against the calls made", op)
                        .isEqualTo(EXPECTED.get(op.ordinal()) - expected[op.ordinal()]);
            }
        }
    }

    private record CheckedVectorFloats(FloatKernels k) implements FloatKernels {
        @Override
        public void stats(MemorySegment segment, long offset, int count, StatsAccumulator acc) {
            long before = VectorPaths.calls(Op.STATS);
            k.stats(segment, offset, count, acc);
            ranVectorCode(Op.STATS, before, count);
        }

        @Override
        public void scale(MemorySegment segment, long offset, int count, float a, float b) {
            long before = VectorPaths.calls(Op.SCALE);
            k.scale(segment, offset, count, a, b);
            ranVectorCode(Op.SCALE, before, count);
        }
    }

    private record CheckedVectorText(TextKernels k) implements TextKernels {
        @Override
        public long validateUtf8(MemorySegment segment, long offset, long length) {
            long before = VectorPaths.calls(Op.VALIDATE_UTF8);
            long r = k.validateUtf8(segment, offset, length);
            ranVectorCode(Op.VALIDATE_UTF8, before, length);
            return r;
        }

        @Override
        public void count(MemorySegment segment, long offset, long length, CountResult out) {
            long before = VectorPaths.calls(Op.COUNT);
            k.count(segment, offset, length, out);
            ranVectorCode(Op.COUNT, before, length);
        }

        @Override
        public long caseMapInPlace(MemorySegment segment, long offset, long length, boolean upper) {
            long before = VectorPaths.calls(Op.CASE_MAP_IN_PLACE);
            long r = k.caseMapInPlace(segment, offset, length, upper);
            ranVectorCode(Op.CASE_MAP_IN_PLACE, before, length);
            return r;
        }

        @Override
        public long caseMapTo(MemorySegment src, long srcOffset, long length, boolean upper, MemorySegment dst,
                              long dstOffset) {
            long before = VectorPaths.calls(Op.CASE_MAP_TO);
            long r = k.caseMapTo(src, srcOffset, length, upper, dst, dstOffset);
            ranVectorCode(Op.CASE_MAP_TO, before, length);
            return r;
        }
    }

    // ---------------------------------------------------------------- memory

    /** Vectors are at most 64 bytes (AVX-512): every alignment a vector load can meet. */
    static final int ALIGNMENTS = 64;

    /**
     * {@code data} in a pooled direct Netty buffer, seen the way the pipeline sees a frame
     * ({@link MemoryViews}: the one segment spanning native memory, offset = the byte's native
     * address), at native address ≡ {@code align} (mod 64), with guard bytes before and after.
     * The buffer is released when {@code arena} closes.
     */
    static final class Placed {
        private static final byte GUARD = 0x5A;

        final ByteBuf buf;           // the pooled direct buffer
        private final MemorySegment bytes; // the buffer's bytes, bounded, for filling and checking
        final MemorySegment seg;     // what the kernel is given: MemoryViews.NATIVE
        final int bufPos;            // index of the data in buf
        final long offset;           // offset passed to the kernel: the data's native address
        final long len;

        Placed(Arena arena, byte[] data, int align) {
            len = data.length;
            int size = data.length + 8 + ALIGNMENTS + 72;
            buf = PooledByteBufAllocator.DEFAULT.directBuffer(size, size);
            MemorySegment.NULL.reinterpret(arena, unused -> buf.release()); // the buffer's owner is the arena
            assertThat(buf.hasMemoryAddress()).as("pooled direct buffers have a native address here").isTrue();
            bufPos = 8 + (int) Math.floorMod(align - (buf.memoryAddress() + 8), (long) ALIGNMENTS);
            seg = MemoryViews.segment(buf, bufPos, data.length);
            offset = MemoryViews.offset(buf, bufPos);
            assertThat(seg).as("the pipeline's view of a direct buffer").isSameAs(MemoryViews.NATIVE);
            assertThat(offset % ALIGNMENTS).isEqualTo(Math.floorMod(align, ALIGNMENTS));
            bytes = MemoryViews.NATIVE.asSlice(buf.memoryAddress(), buf.capacity());
            bytes.fill(GUARD);
            MemorySegment.copy(data, 0, bytes, ValueLayout.JAVA_BYTE, bufPos, data.length);
        }

        byte[] data() {
            return bytes.asSlice(bufPos, len).toArray(ValueLayout.JAVA_BYTE);
        }

        /** True when no byte outside the data was written. */
        boolean guardsIntact() {
            for (long i = 0; i < bytes.byteSize(); i++) {
                if ((i < bufPos || i >= bufPos + len) && bytes.get(ValueLayout.JAVA_BYTE, i) != GUARD) {
                    return false;
                }
            }
            return true;
        }
    }
}
