package dev.framepipe.pipeline;

import static dev.framepipe.protocol.FrameDescriptor.*;

import dev.framepipe.protocol.Kinds;
import dev.framepipe.protocol.Responses;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Encodes the answers a worker left as values ({@link Frame.Answer#STATS},
 * {@link Frame.Answer#COUNT}, {@link Frame.Answer#ERROR}) into a buffer, on the I/O thread.
 * A fixed-size result is written over the request's own memory when the request is at least as
 * large (the usual case: a STATS answer is 64 bytes, a request of 12 floats already is); only
 * smaller requests and errors take a pooled buffer, allocated and later released on this same
 * thread.
 */
public final class FrameAnswers {

    private FrameAnswers() {
    }

    /** Sets {@code f.response} (and releases or takes over {@code f.request}). I/O thread. */
    public static void encode(Frame f, ByteBufAllocator alloc) {
        switch (f.answer) {
            case BUFFER -> {
                // already a buffer
            }
            case STATS -> fixed(f, alloc, Kinds.FLOATS | RESPONSE_BIT, STATS_RESPONSE_LENGTH, 6);
            case COUNT -> fixed(f, alloc, Kinds.TEXT | RESPONSE_BIT, COUNT_RESPONSE_LENGTH, 4);
            case ERROR -> {
                release(f);
                f.response = Responses.error(alloc, f.op, f.id, f.error, f.errorMessage);
            }
        }
        f.answer = Frame.Answer.BUFFER;
    }

    private static void fixed(Frame f, ByteBufAllocator alloc, int kind, int payload, int values) {
        ByteBuf req = f.request;
        ByteBuf out;
        int at;
        if (req != null && req.readableBytes() >= HEADER_LENGTH + payload) {
            out = req;
            at = req.readerIndex();
            f.request = null;
        } else {
            release(f);
            out = alloc.directBuffer(HEADER_LENGTH + payload);
            at = 0;
        }
        putHeader(out, at, payload, kind, f.op, f.id);
        long[] r = f.results;
        for (int i = 0; i < values; i++) {
            out.setLongLE(at + HEADER_LENGTH + 8 * i, r[i]);
        }
        out.setIndex(at, at + HEADER_LENGTH + payload);
        f.response = out;
    }

    private static void release(Frame f) {
        if (f.request != null) {
            f.request.release();
            f.request = null;
        }
    }
}
