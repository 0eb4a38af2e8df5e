package dev.framepipe.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Test fixtures: every kernel implementation, and memory placed the way the pipeline passes it. */
final class Impls {

    /** The global segment the pipeline uses for direct buffers (offset = native address). */
    static final MemorySegment GLOBAL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private Impls() {
    }

    record Named<T>(String name, T impl) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Named<FloatKernels>> floats() {
        List<Named<FloatKernels>> list = new ArrayList<>();
        list.add(new Named<>("scalar", new ScalarFloatKernels()));
        FloatKernels v = vector("floats", FloatKernels.class);
        if (v != null) {
            list.add(new Named<>("vector", v));
        }
        return list;
    }

    static List<Named<TextKernels>> text() {
        List<Named<TextKernels>> list = new ArrayList<>();
        list.add(new Named<>("scalar", new ScalarTextKernels()));
        TextKernels v = vector("text", TextKernels.class);
        if (v != null) {
            list.add(new Named<>("vector", v));
        }
        return list;
    }

    private static <T> T vector(String method, Class<T> type) {
        try {
            Class<?> c = Class.forName("dev.framepipe.kernel.vector.VectorKernels");
            return type.cast(c.getMethod(method).invoke(null));
        } catch (ClassNotFoundException e) {
            return null;
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    /** Where the bytes live: heap array, native segment, or the pipeline's global segment. */
    enum Kind { HEAP, NATIVE, GLOBAL }

    /** {@code len} bytes at an unaligned position inside a larger buffer with guard bytes. */
    static final class Placed {
        final MemorySegment buffer; // the whole allocation
        final MemorySegment seg;    // what the kernel is given
        final long bufPos;          // position of the data inside buffer
        final long offset;          // offset passed to the kernel
        final long len;

        Placed(Arena arena, Kind kind, byte[] data, int skew) {
            len = data.length;
            bufPos = 8 + skew;
            long size = len + bufPos + 72;
            buffer = kind == Kind.HEAP ? MemorySegment.ofArray(new byte[(int) size]) : arena.allocate(size, 64);
            buffer.fill((byte) 0x5A); // guard pattern
            MemorySegment.copy(data, 0, buffer, ValueLayout.JAVA_BYTE, bufPos, data.length);
            if (kind == Kind.GLOBAL) {
                seg = GLOBAL;
                offset = buffer.address() + bufPos;
            } else {
                seg = buffer;
                offset = bufPos;
            }
        }

        byte[] data() {
            return buffer.asSlice(bufPos, len).toArray(ValueLayout.JAVA_BYTE);
        }

        /** True when no byte outside the data was written. */
        boolean guardsIntact() {
            for (long i = 0; i < buffer.byteSize(); i++) {
                if ((i < bufPos || i >= bufPos + len) && buffer.get(ValueLayout.JAVA_BYTE, i) != 0x5A) {
                    return false;
                }
            }
            return true;
        }
    }

    static Kind randomKind(Random r) {
        return Kind.values()[r.nextInt(Kind.values().length)];
    }
}
