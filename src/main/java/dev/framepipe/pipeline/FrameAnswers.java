package dev.framepipe.pipeline;

import static dev.framepipe.protocol.FrameDescriptor.*;

import dev.framepipe.protocol.Kinds;
import dev.framepipe.protocol.Responses;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Writes the answers a worker computes as values ({@link Frame.Answer#STATS},
 * {@link Frame.Answer#COUNT}, {@link Frame.Answer#ERROR}).
 *
 * <p>A fixed-size result goes over the request's own memory when the request is at least as
 * large (the usual case: a STATS answer is 64 bytes, a request of 12 floats already is); the
 * worker does that itself ({@link #inPlace}), so the I/O thread only writes the buffer out.
 * Smaller requests and errors need a pooled buffer; those are encoded on the I/O thread
 * ({@link #encode}), so the buffer is allocated and released on the same thread and nothing
 * crosses into a worker's pool.
 */
public final class FrameAnswers {

    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private FrameAnswers() {
    }

    /**
     * Worker side: writes a STATS or COUNT answer over the request when it has room, making the
     * request the response. Otherwise leaves the values for {@link #encode}.
     */
    static void inPlace(Frame f) {
        int payload = payloadOf(f.answer);
        ByteBuf req = f.request;
        if (payload < 0 || req == null || req.readableBytes() < HEADER_LENGTH + payload) {
            return;
        }
        int at = req.readerIndex();
        write(f, MemoryViews.segment(req, at, HEADER_LENGTH + payload), MemoryViews.offset(req, at), payload);
        req.writerIndex(at + HEADER_LENGTH + payload);
        f.response = req;
        f.request = null;
        f.answer = Frame.Answer.BUFFER;
    }

    /** I/O thread: makes sure {@code f.response} is set (and the request released or taken over). */
    public static void encode(Frame f, ByteBufAllocator alloc) {
        switch (f.answer) {
            case BUFFER -> {
                // already a buffer
            }
            case STATS, COUNT -> {
                inPlace(f);
                if (f.response == null) {
                    release(f);
                    int payload = payloadOf(f.answer);
                    ByteBuf out = alloc.directBuffer(HEADER_LENGTH + payload);
                    write(f, MemoryViews.segment(out, 0, HEADER_LENGTH + payload), MemoryViews.offset(out, 0), payload);
                    out.writerIndex(HEADER_LENGTH + payload);
                    f.response = out;
                }
            }
            case ERROR -> {
                release(f);
                f.response = Responses.error(alloc, f.op, f.id, f.error, f.errorMessage);
            }
        }
        f.answer = Frame.Answer.BUFFER;
    }

    private static int payloadOf(Frame.Answer a) {
        return switch (a) {
            case STATS -> STATS_RESPONSE_LENGTH;
            case COUNT -> COUNT_RESPONSE_LENGTH;
            default -> -1;
        };
    }

    /** Header and values with plain stores: one segment, no per-field buffer checks. */
    private static void write(Frame f, MemorySegment seg, long off, int payload) {
        int kind = (f.answer == Frame.Answer.STATS ? Kinds.FLOATS : Kinds.TEXT) | RESPONSE_BIT;
        seg.set(INT_LE, off + LENGTH_OFFSET, MIN_LENGTH + payload);
        seg.set(ValueLayout.JAVA_BYTE, off + VERSION_OFFSET, (byte) VERSION);
        seg.set(ValueLayout.JAVA_BYTE, off + KIND_OFFSET, (byte) kind);
        seg.set(SHORT_LE, off + OP_OFFSET, (short) f.op);
        seg.set(LONG_LE, off + ID_OFFSET, f.id);
        long[] r = f.results;
        for (int i = 0, n = payload >>> 3; i < n; i++) {
            seg.set(LONG_LE, off + HEADER_LENGTH + 8L * i, r[i]);
        }
    }

    private static void release(Frame f) {
        if (f.request != null) {
            f.request.release();
            f.request = null;
        }
    }
}
