package dev.framepipe.codec;

import static dev.framepipe.protocol.FrameDescriptor.ID_OFFSET;
import static dev.framepipe.protocol.FrameDescriptor.KIND_OFFSET;
import static dev.framepipe.protocol.FrameDescriptor.LENGTH_OFFSET;
import static dev.framepipe.protocol.FrameDescriptor.MIN_LENGTH;
import static dev.framepipe.protocol.FrameDescriptor.OP_OFFSET;
import static dev.framepipe.protocol.FrameDescriptor.VERSION;
import static dev.framepipe.protocol.FrameDescriptor.VERSION_OFFSET;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The wire layout of {@link dev.framepipe.protocol.FrameDescriptor} as the server's workers and
 * answer encoder see it: frames in native memory, read and written through {@link MemorySegment}.
 * The offsets stay in {@code FrameDescriptor} (the one description of the layout, shared with
 * the Java 17 client, which has no {@code java.lang.foreign}); this class adds only the value
 * layouts and the header writer.
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

    /** Writes a header at {@code frame} of {@code seg}, for a payload of {@code payloadLength}. */
    public static void putHeader(MemorySegment seg, long frame, int payloadLength, int kind, int op, long id) {
        seg.set(INT_LE, frame + LENGTH_OFFSET, MIN_LENGTH + payloadLength);
        seg.set(ValueLayout.JAVA_BYTE, frame + VERSION_OFFSET, (byte) VERSION);
        seg.set(ValueLayout.JAVA_BYTE, frame + KIND_OFFSET, (byte) kind);
        seg.set(SHORT_LE, frame + OP_OFFSET, (short) op);
        seg.set(LONG_LE, frame + ID_OFFSET, id);
    }
}
