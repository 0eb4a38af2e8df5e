package dev.framepipe.codec;

import io.netty.buffer.ByteBuf;
import java.lang.foreign.MemorySegment;

/**
 * Sees a ByteBuf's bytes as a {@link MemorySegment} plus offset, without copying and, for
 * direct buffers, without allocating: one segment spans the whole address space and a frame
 * is addressed by its native address. (The kernels bound every access by the frame's own
 * length, which the decoder has checked against the buffer.)
 */
public final class MemoryViews {

    /** All of native memory; requires --enable-native-access for the restricted reinterpret. */
    public static final MemorySegment NATIVE = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private MemoryViews() {
    }

    /** The segment holding {@code length} bytes at {@code index} of {@code buf}. */
    public static MemorySegment segment(ByteBuf buf, int index, int length) {
        if (buf.hasMemoryAddress()) {
            return NATIVE;
        }
        if (buf.hasArray()) {
            return MemorySegment.ofArray(buf.array());
        }
        return MemorySegment.ofBuffer(buf.nioBuffer(index, length));
    }

    /**
     * Copies {@code length} bytes from {@code index} of {@code src} to {@code dstOffset} of
     * {@code dst}. Not {@code ByteBuf.writeBytes}: between direct buffers that goes through NIO
     * views when Netty runs without sun.misc.Unsafe (as on JDK 25), two to three objects per copy.
     */
    public static void copy(ByteBuf src, int index, MemorySegment dst, long dstOffset, int length) {
        MemorySegment.copy(segment(src, index, length), offset(src, index), dst, dstOffset, length);
    }

    /** The offset in {@link #segment} of byte {@code index} of {@code buf}. */
    public static long offset(ByteBuf buf, int index) {
        if (buf.hasMemoryAddress()) {
            return buf.memoryAddress() + index;
        }
        if (buf.hasArray()) {
            return buf.arrayOffset() + (long) index;
        }
        return 0;
    }
}
