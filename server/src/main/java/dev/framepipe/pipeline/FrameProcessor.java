package dev.framepipe.pipeline;

import static dev.framepipe.codec.FrameLayout.*;
import static dev.framepipe.protocol.FrameDescriptor.*;

import dev.framepipe.kernel.CountResult;
import dev.framepipe.kernel.FloatKernels;
import dev.framepipe.kernel.ParallelStats;

import dev.framepipe.kernel.StatsAccumulator;
import dev.framepipe.kernel.TextKernels;
import dev.framepipe.protocol.ErrorCode;
import dev.framepipe.protocol.Kinds;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.ForkJoinPool;

/**
 * Runs one frame's operation and sets its answer. Called by one lane's drain task at a time,
 * so the scratch state here is reused without locks. Never throws: a bug becomes an INTERNAL
 * error answer and the connection stays open.
 *
 * <p>Works on the frame's memory only ({@link Frame#memory} at {@link Frame#address}), never on
 * its buffer. Answers reuse the request's memory wherever the protocol allows: PING and
 * unchanged text are the request itself with the response kind; SCALE and same-length case
 * mapping are written over the request's payload. STATS and COUNT leave their values in
 * {@link Frame#results} for the I/O thread to encode; only length-changing case mapping takes
 * a new pooled buffer.
 */
public final class FrameProcessor {

    private static final System.Logger LOG = System.getLogger(FrameProcessor.class.getName());

    private final FloatKernels floats;
    private final TextKernels text;
    private final ByteBufAllocator alloc;
    private final ForkJoinPool pool;
    private final int parallelThresholdFloats;
    private final StatsAccumulator stats = new StatsAccumulator();
    private final CountResult counts = new CountResult();

    public FrameProcessor(FloatKernels floats, TextKernels text, ByteBufAllocator alloc,
                          ForkJoinPool pool, int parallelThresholdFloats) {
        this.floats = floats;
        this.text = text;
        this.alloc = alloc;
        this.pool = pool;
        this.parallelThresholdFloats = parallelThresholdFloats;
    }

    public void process(Frame f) {
        try {
            if (f.decodeError != null) {
                fail(f, f.decodeError, f.decodeMessage);
                f.closeAfter = true;
                return;
            }
            switch (f.type) {
                case STATS -> stats(f);
                case SCALE -> scale(f);
                case UPPER -> caseMap(f, true);
                case LOWER -> caseMap(f, false);
                case COUNT -> count(f);
                case PING -> echo(f);
                case FLOATS_UNKNOWN, TEXT_UNKNOWN, PING_UNKNOWN ->
                        fail(f, ErrorCode.UNKNOWN_OP, "op " + f.op + " is not defined for kind " + f.kind);
                case OTHER -> fail(f, ErrorCode.UNKNOWN_KIND, "kind " + f.kind + " is not defined");
            }
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.ERROR, "frame kind=" + f.kind + " op=" + f.op + " id=" + f.id + " failed", t);
            if (f.response != null) {
                f.response.release();
                f.response = null;
            }
            fail(f, ErrorCode.INTERNAL, "internal error: " + t.getClass().getSimpleName());
        }
    }

    private void stats(Frame f) {
        int payload = f.length - HEADER_LENGTH;
        if ((payload & 3) != 0) {
            fail(f, ErrorCode.MALFORMED, "STATS payload of " + payload + " bytes is not a whole number of float32");
            return;
        }
        int n = payload >>> 2;
        MemorySegment seg = f.memory;
        long off = f.address + PAYLOAD_OFFSET;
        StatsAccumulator acc = stats;
        acc.reset();
        if (n > parallelThresholdFloats) {
            ParallelStats.statsParallel(floats, pool, seg, off, n, parallelThresholdFloats, acc);
        } else {
            floats.stats(seg, off, n, acc);
        }
        long[] r = f.results;
        r[0] = acc.count();
        r[1] = Double.doubleToRawLongBits(acc.sum());
        r[2] = Double.doubleToRawLongBits(acc.min());
        r[3] = Double.doubleToRawLongBits(acc.max());
        r[4] = Double.doubleToRawLongBits(acc.mean());
        r[5] = Double.doubleToRawLongBits(acc.variance());
        f.answer = Frame.Answer.STATS;
    }

    private void scale(Frame f) {
        int payload = f.length - HEADER_LENGTH;
        if (payload < SCALE_VALUES_OFFSET || ((payload - SCALE_VALUES_OFFSET) & 3) != 0) {
            fail(f, ErrorCode.MALFORMED, "SCALE payload of " + payload
                    + " bytes is not a, b and a whole number of float32");
            return;
        }
        MemorySegment seg = f.memory;
        long at = f.address + PAYLOAD_OFFSET;
        float a = seg.get(FLOAT_LE, at + SCALE_A_OFFSET);
        float b = seg.get(FLOAT_LE, at + SCALE_B_OFFSET);
        int n = (payload - SCALE_VALUES_OFFSET) >>> 2;
        long values = at + SCALE_VALUES_OFFSET;
        if (n > parallelThresholdFloats) {
            ParallelStats.scaleParallel(floats, pool, seg, values, n, parallelThresholdFloats, a, b);
        } else {
            floats.scale(seg, values, n, a, b);
        }
        // The answer is the request's memory: a new header over a and b, then the scaled values.
        putHeader(seg, f.address + SCALE_VALUES_OFFSET, n << 2, Kinds.FLOATS | RESPONSE_BIT, f.op, f.id);
        f.answerInRequest(SCALE_VALUES_OFFSET, HEADER_LENGTH + (n << 2));
        f.path = TransformPath.IN_PLACE;
    }

    private boolean validUtf8(Frame f, MemorySegment seg, long off, int payload) {
        long bad = text.validateUtf8(seg, off, payload);
        if (bad >= 0) {
            fail(f, ErrorCode.INVALID_UTF8, "payload is not well-formed UTF-8 (byte " + bad + ")");
            return false;
        }
        return true;
    }

    private void caseMap(Frame f, boolean upper) {
        int payload = f.length - HEADER_LENGTH;
        MemorySegment seg = f.memory;
        long off = f.address + PAYLOAD_OFFSET;
        if (!validUtf8(f, seg, off, payload)) {
            return;
        }
        long result = text.caseMapInPlace(seg, off, payload, upper);
        if (result == TextKernels.UNCHANGED || result == TextKernels.IN_PLACE) {
            seg.set(ValueLayout.JAVA_BYTE, f.address + KIND_OFFSET, (byte) (Kinds.TEXT | RESPONSE_BIT));
            f.answerInRequest(0, f.length);
            f.path = result == TextKernels.UNCHANGED ? TransformPath.BORROWED : TransformPath.IN_PLACE;
            return;
        }
        int length = Math.toIntExact(result);
        ByteBuf out = alloc.directBuffer(HEADER_LENGTH + length);
        try {
            writeHeader(out, length, Kinds.TEXT | RESPONSE_BIT, f.op, f.id);
            int dst = out.writerIndex();
            out.ensureWritable(length);
            long written = text.caseMapTo(seg, off, payload, upper,
                    MemoryViews.segment(out, dst, length), MemoryViews.offset(out, dst));
            if (written != length) {
                throw new IllegalStateException("case mapping wrote " + written + " bytes, expected " + length);
            }
            out.writerIndex(dst + length);
        } catch (RuntimeException | Error e) {
            out.release();
            throw e;
        }
        // The request's memory is no longer needed; the I/O thread releases its buffer.
        f.response = out;
        f.answer = Frame.Answer.BUFFER;
        f.path = TransformPath.COPIED;
    }

    private void count(Frame f) {
        int payload = f.length - HEADER_LENGTH;
        MemorySegment seg = f.memory;
        long off = f.address + PAYLOAD_OFFSET;
        if (!validUtf8(f, seg, off, payload)) {
            return;
        }
        CountResult c = counts;
        c.clear();
        text.count(seg, off, payload, c);
        long[] r = f.results;
        r[0] = c.bytes;
        r[1] = c.codePoints;
        r[2] = c.words;
        r[3] = c.lines;
        f.answer = Frame.Answer.COUNT;
    }

    private static void echo(Frame f) {
        f.memory.set(ValueLayout.JAVA_BYTE, f.address + KIND_OFFSET, (byte) (Kinds.PING | RESPONSE_BIT));
        f.answerInRequest(0, f.length);
    }

    private static void fail(Frame f, ErrorCode code, String message) {
        f.error = code;
        f.errorMessage = message;
        f.answer = Frame.Answer.ERROR;
    }
}
