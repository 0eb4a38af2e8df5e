package dev.framepipe.protocol;

import static dev.framepipe.protocol.FrameDescriptor.*;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;

/** Builds response frames that need a buffer of their own (errors and fixed-size results). */
public final class Responses {

    /** Error messages are for humans; capped so an error answer stays a small buffer. */
    public static final int MAX_MESSAGE_CHARS = 200;

    private Responses() {
    }

    public static ByteBuf error(ByteBufAllocator alloc, int op, long id, ErrorCode code, String message) {
        CharSequence text = message == null ? code.name() : message;
        if (text.length() > MAX_MESSAGE_CHARS) {
            int cut = MAX_MESSAGE_CHARS;
            if (Character.isHighSurrogate(text.charAt(cut - 1))) {
                cut--; // never split a surrogate pair: the message must stay well-formed UTF-8
            }
            text = text.subSequence(0, cut);
        }
        int payload = ERROR_MESSAGE_OFFSET + ByteBufUtil.utf8Bytes(text);
        ByteBuf buf = alloc.directBuffer(HEADER_LENGTH + payload);
        writeHeader(buf, payload, ERROR_KIND, op, id);
        buf.writeShortLE(code.code());
        ByteBufUtil.writeUtf8(buf, text);
        return buf;
    }

    public static ByteBuf stats(ByteBufAllocator alloc, int op, long id,
                                long count, double sum, double min, double max, double mean, double variance) {
        ByteBuf buf = alloc.directBuffer(HEADER_LENGTH + STATS_RESPONSE_LENGTH);
        writeHeader(buf, STATS_RESPONSE_LENGTH, Kinds.FLOATS | RESPONSE_BIT, op, id);
        buf.writeLongLE(count);
        buf.writeLongLE(Double.doubleToRawLongBits(sum));
        buf.writeLongLE(Double.doubleToRawLongBits(min));
        buf.writeLongLE(Double.doubleToRawLongBits(max));
        buf.writeLongLE(Double.doubleToRawLongBits(mean));
        buf.writeLongLE(Double.doubleToRawLongBits(variance));
        return buf;
    }

    public static ByteBuf count(ByteBufAllocator alloc, int op, long id,
                                long bytes, long codePoints, long words, long lines) {
        ByteBuf buf = alloc.directBuffer(HEADER_LENGTH + COUNT_RESPONSE_LENGTH);
        writeHeader(buf, COUNT_RESPONSE_LENGTH, Kinds.TEXT | RESPONSE_BIT, op, id);
        buf.writeLongLE(bytes);
        buf.writeLongLE(codePoints);
        buf.writeLongLE(words);
        buf.writeLongLE(lines);
        return buf;
    }
}
