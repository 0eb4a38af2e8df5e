package dev.framepipe.codec;

import static dev.framepipe.codec.FrameLayout.*;
import static dev.framepipe.protocol.FrameDescriptor.*;

import dev.framepipe.protocol.ErrorCode;
import dev.framepipe.protocol.Kinds;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * Every answer's bytes are made here, whichever thread writes them: the workers encode results
 * and errors into a batch's output memory, the I/O thread encodes the answers the decoder owes
 * (a refused header, a SHUTTING_DOWN decline) into a buffer of their own. Answers that are the
 * request's own bytes (PING, SCALE and case mapping written in place) only get their header
 * here ({@link #header}).
 */
public final class Responses {

    /** Bytes of a STATS answer, header included. */
    public static final int STATS_SIZE = HEADER_LENGTH + STATS_RESPONSE_LENGTH;
    /** Bytes of a COUNT answer, header included. */
    public static final int COUNT_SIZE = HEADER_LENGTH + COUNT_RESPONSE_LENGTH;
    /** Error messages are for humans; capped so an error answer stays small. */
    public static final int MAX_MESSAGE_CHARS = 200;

    private Responses() {
    }

    /** Writes a header at {@code at}: a frame of {@code payload} bytes with this kind, op and id. */
    public static void header(MemorySegment seg, long at, int payload, int kind, int op, long id) {
        FrameLayout.putHeader(seg, at, payload, kind, op, id);
    }

    /** Turns the request at {@code at} into its answer in place: the same bytes, the answer's kind. */
    public static void answerKindInPlace(MemorySegment seg, long at, int requestKind) {
        seg.set(ValueLayout.JAVA_BYTE, at + KIND_OFFSET, (byte) (requestKind | RESPONSE_BIT));
    }

    /** A STATS answer at {@code at} ({@link #STATS_SIZE} bytes); {@code count} as u64, the rest f64. */
    public static void stats(MemorySegment seg, long at, int op, long id, long count, double sum, double min,
                             double max, double mean, double variance) {
        FrameLayout.putHeader(seg, at, STATS_RESPONSE_LENGTH, Kinds.FLOATS | RESPONSE_BIT, op, id);
        long p = at + PAYLOAD_OFFSET;
        seg.set(LONG_LE, p + STATS_COUNT_OFFSET, count);
        seg.set(LONG_LE, p + STATS_SUM_OFFSET, Double.doubleToRawLongBits(sum));
        seg.set(LONG_LE, p + STATS_MIN_OFFSET, Double.doubleToRawLongBits(min));
        seg.set(LONG_LE, p + STATS_MAX_OFFSET, Double.doubleToRawLongBits(max));
        seg.set(LONG_LE, p + STATS_MEAN_OFFSET, Double.doubleToRawLongBits(mean));
        seg.set(LONG_LE, p + STATS_VARIANCE_OFFSET, Double.doubleToRawLongBits(variance));
    }

    /** A COUNT answer at {@code at} ({@link #COUNT_SIZE} bytes). */
    public static void count(MemorySegment seg, long at, int op, long id, long bytes, long codePoints, long words,
                             long lines) {
        FrameLayout.putHeader(seg, at, COUNT_RESPONSE_LENGTH, Kinds.TEXT | RESPONSE_BIT, op, id);
        long p = at + PAYLOAD_OFFSET;
        seg.set(LONG_LE, p + COUNT_BYTES_OFFSET, bytes);
        seg.set(LONG_LE, p + COUNT_CODE_POINTS_OFFSET, codePoints);
        seg.set(LONG_LE, p + COUNT_WORDS_OFFSET, words);
        seg.set(LONG_LE, p + COUNT_LINES_OFFSET, lines);
    }

    /** The UTF-8 of an error message as it goes on the wire: at most {@link #MAX_MESSAGE_CHARS} characters. */
    public static byte[] errorMessage(ErrorCode code, String message) {
        String text = message == null ? code.name() : message;
        if (text.length() > MAX_MESSAGE_CHARS) {
            int cut = MAX_MESSAGE_CHARS;
            if (Character.isHighSurrogate(text.charAt(cut - 1))) {
                cut--; // never split a surrogate pair: the message must stay well-formed UTF-8
            }
            text = text.substring(0, cut);
        }
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** Size of an error answer with this encoded message, header included. */
    public static int errorSize(byte[] message) {
        return HEADER_LENGTH + ERROR_MESSAGE_OFFSET + message.length;
    }

    /** An error answer at {@code at} ({@link #errorSize} bytes). */
    public static void error(MemorySegment seg, long at, int op, long id, ErrorCode code, byte[] message) {
        FrameLayout.putHeader(seg, at, ERROR_MESSAGE_OFFSET + message.length, ERROR_KIND, op, id);
        seg.set(SHORT_LE, at + PAYLOAD_OFFSET + ERROR_CODE_OFFSET, (short) code.code());
        MemorySegment.copy(message, 0, seg, ValueLayout.JAVA_BYTE, at + PAYLOAD_OFFSET + ERROR_MESSAGE_OFFSET,
                message.length);
    }

    /** An error answer in a pooled direct buffer of its own (the caller owns it). */
    public static ByteBuf error(ByteBufAllocator alloc, int op, long id, ErrorCode code, String message) {
        byte[] text = errorMessage(code, message);
        int size = errorSize(text);
        ByteBuf buf = alloc.directBuffer(size, size);
        buf.writeBytes(new byte[size]); // sets the writer index; the bytes are written below
        error(MemoryViews.segment(buf, 0, size), MemoryViews.offset(buf, 0),
                op, id, code, text);
        return buf;
    }
}
