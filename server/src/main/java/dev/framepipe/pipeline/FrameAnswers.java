package dev.framepipe.pipeline;

import static dev.framepipe.codec.FrameLayout.*;
import static dev.framepipe.protocol.FrameDescriptor.*;

import dev.framepipe.protocol.ErrorCode;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.codec.Responses;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.lang.foreign.MemorySegment;

/**
 * The I/O thread's side of a frame's answer: how big it is, and its bytes, either copied to
 * where the caller says ({@link #copyTo}, for small answers gathered into one output buffer) or
 * as a buffer of their own ({@link #take}, for large ones, without copying when the answer is in
 * the request's memory).
 *
 * <p>Values (STATS and COUNT results) are encoded here, on the I/O thread, straight into the
 * output: the worker only fills {@link Frame#results}, so it writes no answer bytes and the I/O
 * thread reads no request memory for them.
 */
public final class FrameAnswers {

    private FrameAnswers() {
    }

    /**
     * Turns an error answer into a buffer (errors are rare; their message needs encoding), so
     * that every other method here sees a sized answer. I/O thread.
     */
    public static void prepare(Frame f, ByteBufAllocator alloc) {
        if (f.answer == Frame.Answer.NONE) {
            // Never left so by FrameProcessor; an answer is owed all the same.
            f.error = ErrorCode.INTERNAL;
            f.errorMessage = "internal error: frame not processed";
            f.answer = Frame.Answer.ERROR;
        }
        if (f.answer == Frame.Answer.ERROR) {
            f.response = Responses.error(alloc, f.op, f.id, f.error, f.errorMessage);
            f.answer = Frame.Answer.BUFFER;
        }
    }

    /** The answer's size in bytes, header included. After {@link #prepare}. */
    public static int size(Frame f) {
        return switch (f.answer) {
            case REQUEST -> f.answerLength;
            case BUFFER -> f.response.readableBytes();
            case STATS -> HEADER_LENGTH + STATS_RESPONSE_LENGTH;
            case COUNT -> HEADER_LENGTH + COUNT_RESPONSE_LENGTH;
            case NONE, ERROR -> throw new IllegalStateException("answer not prepared: " + f.answer);
        };
    }

    /** Writes the answer's {@link #size} bytes at {@code off} of {@code seg}. After {@link #prepare}. */
    public static void copyTo(Frame f, MemorySegment seg, long off) {
        switch (f.answer) {
            case REQUEST -> MemorySegment.copy(f.memory, f.address + f.answerOffset, seg, off, f.answerLength);
            case BUFFER -> MemoryViews.copy(f.response, f.response.readerIndex(), seg, off, f.response.readableBytes());
            case STATS -> writeValues(f, seg, off, STATS_RESPONSE_LENGTH);
            case COUNT -> writeValues(f, seg, off, COUNT_RESPONSE_LENGTH);
            case NONE, ERROR -> throw new IllegalStateException("answer not prepared: " + f.answer);
        }
    }

    /**
     * The answer as a buffer the caller owns. An answer in the request's memory becomes a
     * retained slice of the request's buffer (no copy); values get a new pooled buffer. After
     * {@link #prepare}.
     */
    public static ByteBuf take(Frame f, ByteBufAllocator alloc) {
        switch (f.answer) {
            case REQUEST -> {
                return f.source.retainedSlice(f.sourceIndex + f.answerOffset, f.answerLength);
            }
            case BUFFER -> {
                ByteBuf r = f.response;
                f.response = null;
                return r;
            }
            case STATS, COUNT -> {
                int size = size(f);
                ByteBuf out = alloc.directBuffer(size);
                copyTo(f, MemoryViews.segment(out, 0, size), MemoryViews.offset(out, 0));
                return out.writerIndex(size);
            }
            default -> throw new IllegalStateException("answer not prepared: " + f.answer);
        }
    }

    /** A STATS or COUNT answer: header, then the result values, with plain stores. */
    private static void writeValues(Frame f, MemorySegment seg, long off, int payload) {
        int kind = (f.answer == Frame.Answer.STATS ? Kinds.FLOATS : Kinds.TEXT) | RESPONSE_BIT;
        putHeader(seg, off, payload, kind, f.op, f.id);
        long[] r = f.results;
        for (int i = 0, n = payload >>> 3; i < n; i++) {
            seg.set(LONG_LE, off + HEADER_LENGTH + 8L * i, r[i]);
        }
    }
}
