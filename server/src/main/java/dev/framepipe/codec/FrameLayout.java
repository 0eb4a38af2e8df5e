package dev.framepipe.codec;

import static dev.framepipe.protocol.FrameDescriptor.ID_OFFSET;
import static dev.framepipe.protocol.FrameDescriptor.KIND_OFFSET;
import static dev.framepipe.protocol.FrameDescriptor.LENGTH_OFFSET;
import static dev.framepipe.protocol.FrameDescriptor.MIN_LENGTH;
import static dev.framepipe.protocol.FrameDescriptor.OP_OFFSET;
import static dev.framepipe.protocol.FrameDescriptor.VERSION;
import static dev.framepipe.protocol.FrameDescriptor.VERSION_OFFSET;

import io.netty.buffer.ByteBuf;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The wire layout of {@link dev.framepipe.protocol.FrameDescriptor} as the server's decoder,
 * workers and answer encoder see it: frames in native memory, read and written through
 * {@link MemorySegment}; the decoder reads a header's first four fields as one word ({@link #head}).
 * The offsets stay in {@code FrameDescriptor} (the one description of the layout, shared with
 * the Java 17 client, which has no {@code java.lang.foreign}); this class adds only the value
 * layouts, the header writer and the head word.
 */
public final class FrameLayout {

    /** Little-endian, unaligned: how header fields and values sit in a frame's memory. */
    public static final ValueLayout.OfLong LONG_LE =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfFloat FLOAT_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfShort SHORT_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private FrameLayout() {
    }

    /**
     * The first 8 bytes of the frame at {@code index} of {@code buf} (length, version, kind and
     * op) in one little-endian load, for the decoder's per-frame reads: on a direct buffer it is
     * a plain load from its address, where Netty's checked getters (without sun.misc.Unsafe, as
     * on JDK 25) check the index and the reference count and go through a ByteBuffer on each
     * field. The caller has checked that the 8 bytes are readable. Split it with {@link #length},
     * {@link #version}, {@link #kind} and {@link #op}.
     */
    public static long head(ByteBuf buf, int index) {
        return buf.hasMemoryAddress()
                ? MemoryViews.NATIVE.get(LONG_LE, buf.memoryAddress() + index + LENGTH_OFFSET)
                : buf.getLongLE(index + LENGTH_OFFSET);
    }

    /** The length field of a {@link #head}, unsigned. */
    public static long length(long head) {
        return head & 0xFFFF_FFFFL;
    }

    public static int version(long head) {
        return (int) (head >>> (Byte.SIZE * (VERSION_OFFSET - LENGTH_OFFSET))) & 0xFF;
    }

    public static int kind(long head) {
        return (int) (head >>> (Byte.SIZE * (KIND_OFFSET - LENGTH_OFFSET))) & 0xFF;
    }

    public static int op(long head) {
        return (int) (head >>> (Byte.SIZE * (OP_OFFSET - LENGTH_OFFSET))) & 0xFFFF;
    }

    /** Writes a header at {@code frame} of {@code seg}, for a payload of {@code payloadLength}. */
    public static void putHeader(MemorySegment seg, long frame, int payloadLength, int kind, int op, long id) {
        seg.set(INT_LE, frame + LENGTH_OFFSET, MIN_LENGTH + payloadLength);
        seg.set(ValueLayout.JAVA_BYTE, frame + VERSION_OFFSET, (byte) VERSION);
        seg.set(ValueLayout.JAVA_BYTE, frame + KIND_OFFSET, (byte) kind);
        seg.set(SHORT_LE, frame + OP_OFFSET, (short) op);
        seg.set(LONG_LE, frame + ID_OFFSET, id);
    }
}
