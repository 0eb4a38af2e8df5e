package dev.framepipe.protocol;

import io.netty.buffer.ByteBuf;

/**
 * The wire layout of a frame, described once. Requests and responses share it; every integer
 * and float is little-endian.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |            length (u32): bytes after this field = 12 + n       |  0
 *  +---------------+---------------+-------------------------------+
 *  | version (u8)  |   kind (u8)   |            op (u16)           |  4
 *  +---------------+---------------+-------------------------------+
 *  |                          id (u64)                             |  8
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                        payload (n bytes)                   ...  16
 * </pre>
 *
 * Offsets are relative to the first byte of the frame (its length field). The server's view of
 * the same layout in native memory (value layouts for {@code MemorySegment}) is
 * {@code dev.framepipe.codec.FrameLayout}, built on these offsets.
 */
public final class FrameDescriptor {

    public static final int LENGTH_OFFSET = 0;
    public static final int VERSION_OFFSET = 4;
    public static final int KIND_OFFSET = 5;
    public static final int OP_OFFSET = 6;
    public static final int ID_OFFSET = 8;
    public static final int PAYLOAD_OFFSET = 16;

    /** Bytes of the header, length field included. */
    public static final int HEADER_LENGTH = PAYLOAD_OFFSET;
    /** Size of the length field; {@code length} counts the bytes after it. */
    public static final int LENGTH_FIELD_SIZE = 4;
    /** The smallest legal value of the length field: the rest of the header, no payload. */
    public static final int MIN_LENGTH = HEADER_LENGTH - LENGTH_FIELD_SIZE;
    /** Default and largest useful value of {@code max-frame-bytes}: 16 MiB. */
    public static final int DEFAULT_MAX_LENGTH = 16 * 1024 * 1024;

    public static final int VERSION = 1;

    /** A response's kind is the request's kind with this bit set. */
    public static final int RESPONSE_BIT = 0x80;
    /** Kind of every error response. */
    public static final int ERROR_KIND = 0xFF;

    // Error payload: u16 code, then a UTF-8 message.
    public static final int ERROR_CODE_OFFSET = 0;
    public static final int ERROR_MESSAGE_OFFSET = 2;

    // STATS response payload: six 8-byte fields.
    public static final int STATS_COUNT_OFFSET = 0;
    public static final int STATS_SUM_OFFSET = 8;
    public static final int STATS_MIN_OFFSET = 16;
    public static final int STATS_MAX_OFFSET = 24;
    public static final int STATS_MEAN_OFFSET = 32;
    public static final int STATS_VARIANCE_OFFSET = 40;
    public static final int STATS_RESPONSE_LENGTH = 48;

    // SCALE request payload: f32 a, f32 b, then the values.
    public static final int SCALE_A_OFFSET = 0;
    public static final int SCALE_B_OFFSET = 4;
    public static final int SCALE_VALUES_OFFSET = 8;

    // COUNT response payload: four u64.
    public static final int COUNT_BYTES_OFFSET = 0;
    public static final int COUNT_CODE_POINTS_OFFSET = 8;
    public static final int COUNT_WORDS_OFFSET = 16;
    public static final int COUNT_LINES_OFFSET = 24;
    public static final int COUNT_RESPONSE_LENGTH = 32;

    private FrameDescriptor() {
    }

    /** Value of the length field of the frame starting at {@code frame}, as an unsigned number. */
    public static long length(ByteBuf buf, int frame) {
        return buf.getUnsignedIntLE(frame + LENGTH_OFFSET);
    }

    public static int version(ByteBuf buf, int frame) {
        return buf.getUnsignedByte(frame + VERSION_OFFSET);
    }

    public static int kind(ByteBuf buf, int frame) {
        return buf.getUnsignedByte(frame + KIND_OFFSET);
    }

    public static int op(ByteBuf buf, int frame) {
        return buf.getUnsignedShortLE(frame + OP_OFFSET);
    }

    public static long id(ByteBuf buf, int frame) {
        return buf.getLongLE(frame + ID_OFFSET);
    }

    /** Writes a header at absolute index {@code frame}, for a payload of {@code payloadLength}. */
    public static void putHeader(ByteBuf buf, int frame, int payloadLength, int kind, int op, long id) {
        buf.setIntLE(frame + LENGTH_OFFSET, MIN_LENGTH + payloadLength);
        buf.setByte(frame + VERSION_OFFSET, VERSION);
        buf.setByte(frame + KIND_OFFSET, kind);
        buf.setShortLE(frame + OP_OFFSET, op);
        buf.setLongLE(frame + ID_OFFSET, id);
    }

    /** Appends a header at the writer index. */
    public static void writeHeader(ByteBuf buf, int payloadLength, int kind, int op, long id) {
        buf.writeIntLE(MIN_LENGTH + payloadLength);
        buf.writeByte(VERSION);
        buf.writeByte(kind);
        buf.writeShortLE(op);
        buf.writeLongLE(id);
    }
}
