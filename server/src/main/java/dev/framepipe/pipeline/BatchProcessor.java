package dev.framepipe.pipeline;

import static dev.framepipe.codec.FrameLayout.*;
import static dev.framepipe.protocol.FrameDescriptor.*;

import dev.framepipe.codec.Responses;
import dev.framepipe.codec.MemoryViews;
import dev.framepipe.codec.OpType;
import dev.framepipe.kernel.CountResult;
import dev.framepipe.kernel.FloatKernels;
import dev.framepipe.kernel.ParallelFloatKernels;
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
 * Runs every frame of a {@link Batch} and writes their answers, in order. Called by one lane's
 * drain at a time, so its scratch state is reused without locks. Never throws: a bug becomes an
 * INTERNAL error answer for that frame and the connection stays open.
 *
 * <p>Where answers go: an answer of at most {@link #COPY_LIMIT} bytes is written into the batch's
 * output chunk, back to back with the others, so that a batch of small frames leaves as ONE
 * buffer; a larger one stays where it is, in the request's own memory (PING, SCALE and
 * same-length case mapping, written in place), and leaves as a slice of it, never copied. Only a
 * large answer that changes length (case mapping such as "ß" to "SS") takes a new buffer.
 * STATS and COUNT values are encoded by {@link Responses} straight into the chunk.
 */
public final class BatchProcessor {

    private static final System.Logger LOG = System.getLogger(BatchProcessor.class.getName());

    /**
     * Answers up to this size are copied into the batch's output chunk: a write costs an
     * outbound-buffer entry and an iovec slot, several times the cost of copying a small answer.
     * Larger answers are written from the request's memory, zero-copy.
     */
    public static final int COPY_LIMIT = 1024;
    /** Size of a chunk the worker adds when an answer outgrows the I/O thread's chunk (rare). */
    static final int SPARE_CHUNK_BYTES = 16 * 1024;

    private static final OpType[] TYPES = OpType.values();

    private final FloatKernels floats;
    private final TextKernels text;
    private final ByteBufAllocator alloc;
    private final ForkJoinPool pool;
    private final int parallelThresholdFloats;
    private final StatsAccumulator stats = new StatsAccumulator();
    private final CountResult counts = new CountResult();

    // The batch being processed and its current output chunk (drain thread only).
    private Batch batch;
    private MemorySegment src;
    private int chunk;
    private MemorySegment out;
    private long outBase;
    private int outCapacity;

    public BatchProcessor(FloatKernels floats, TextKernels text, ByteBufAllocator alloc, ForkJoinPool pool,
                          int parallelThresholdFloats) {
        this.floats = floats;
        this.text = text;
        this.alloc = alloc;
        this.pool = pool;
        this.parallelThresholdFloats = parallelThresholdFloats;
    }

    /**
     * Room in the output chunk for the answer of a frame of this type and size, set aside by the
     * I/O thread when it allocates the chunk: an upper bound for every answer that is copied,
     * except errors and case mappings that grow, for which the worker makes room itself.
     */
    public static int answerBound(OpType type, int frameLength) {
        return switch (type) {
            case STATS -> Responses.STATS_SIZE;
            case COUNT -> Responses.COUNT_SIZE;
            case PING, SCALE, UPPER, LOWER -> frameLength <= COPY_LIMIT ? frameLength : 0;
            default -> 0;
        };
    }

    /** Runs every frame of {@code b} and writes its answers. */
    public void process(Batch b) {
        batch = b;
        src = b.memory;
        chunk = 0;
        useChunk(0);
        for (int i = 0, n = b.count; i < n; i++) {
            long at = b.base + b.frameIndex[i];
            int length = b.frameLength[i];
            int flags = b.type[i];
            OpType type = TYPES[flags & Batch.TYPE_MASK];
            if ((flags & Batch.ANSWERED) != 0) {
                inRequest(b.frameIndex[i], at, length, type); // its bytes are its answer
                continue;
            }
            int op = src.get(SHORT_LE, at + OP_OFFSET) & 0xFFFF;
            long id = src.get(LONG_LE, at + ID_OFFSET);
            int kind = src.get(ValueLayout.JAVA_BYTE, at + KIND_OFFSET) & 0xFF;
            try {
                frame(b.frameIndex[i], at, length, type, kind, op, id);
            } catch (Throwable t) {
                LOG.log(System.Logger.Level.ERROR, "frame kind=" + kind + " op=" + op + " id=" + id + " failed", t);
                error(type, op, id, ErrorCode.INTERNAL, "internal error: " + t.getClass().getSimpleName());
            }
        }
        batch = null;
        src = null;
        out = null;
    }

    private void frame(int index, long at, int length, OpType type, int kind, int op, long id) {
        int payload = length - HEADER_LENGTH;
        long p = at + PAYLOAD_OFFSET;
        switch (type) {
            case STATS -> stats(type, op, id, p, payload);
            case SCALE -> scale(index, at, length, type, op, id, p, payload);
            case UPPER, LOWER -> caseMap(index, at, length, type, kind, op, id, p, payload);
            case COUNT -> count(type, op, id, p, payload);
            case PING -> {
                Responses.answerKindInPlace(src, at, kind);
                inRequest(index, at, length, type);
            }
            case FLOATS_UNKNOWN_OP, TEXT_UNKNOWN_OP, PING_UNKNOWN_OP ->
                    error(type, op, id, ErrorCode.UNKNOWN_OP, "op " + op + " is not defined for kind " + kind);
            case UNKNOWN_KIND -> error(type, op, id, ErrorCode.UNKNOWN_KIND, "kind " + kind + " is not defined");
        }
    }

    private void stats(OpType type, int op, long id, long p, int payload) {
        if ((payload & 3) != 0) {
            error(type, op, id, ErrorCode.MALFORMED,
                    "STATS payload of " + payload + " bytes is not a whole number of float32");
            return;
        }
        int n = payload >>> 2;
        StatsAccumulator acc = stats;
        acc.reset();
        if (n > parallelThresholdFloats) {
            ParallelFloatKernels.statsParallel(floats, pool, src, p, n, parallelThresholdFloats, acc);
        } else {
            floats.stats(src, p, n, acc);
        }
        long at = room(Responses.STATS_SIZE);
        Responses.stats(out, at, op, id, acc.count(), acc.sum(), acc.min(), acc.max(), acc.mean(), acc.variance());
        copied(Responses.STATS_SIZE, type);
    }

    private void count(OpType type, int op, long id, long p, int payload) {
        if (!validUtf8(type, op, id, p, payload)) {
            return;
        }
        CountResult c = counts;
        c.clear();
        text.count(src, p, payload, c);
        long at = room(Responses.COUNT_SIZE);
        Responses.count(out, at, op, id, c.bytes, c.codePoints, c.words, c.lines);
        copied(Responses.COUNT_SIZE, type);
    }

    private void scale(int index, long at, int length, OpType type, int op, long id, long p, int payload) {
        if (payload < SCALE_VALUES_OFFSET || ((payload - SCALE_VALUES_OFFSET) & 3) != 0) {
            error(type, op, id, ErrorCode.MALFORMED, "SCALE payload of " + payload
                    + " bytes is not a, b and a whole number of float32");
            return;
        }
        float a = src.get(FLOAT_LE, p + SCALE_A_OFFSET);
        float b = src.get(FLOAT_LE, p + SCALE_B_OFFSET);
        int n = (payload - SCALE_VALUES_OFFSET) >>> 2;
        long values = p + SCALE_VALUES_OFFSET;
        if (n > parallelThresholdFloats) {
            ParallelFloatKernels.scaleParallel(floats, pool, src, values, n, parallelThresholdFloats, a, b);
        } else {
            floats.scale(src, values, n, a, b);
        }
        // The answer is the request's memory from a and b on: a new header over them, then the values.
        Responses.header(src, at + SCALE_VALUES_OFFSET, n << 2, Kinds.FLOATS | RESPONSE_BIT, op, id);
        batch.paths[TransformPath.IN_PLACE.ordinal()]++;
        inRequest(index + SCALE_VALUES_OFFSET, at + SCALE_VALUES_OFFSET, length - SCALE_VALUES_OFFSET, type);
    }

    private void caseMap(int index, long at, int length, OpType type, int kind, int op, long id, long p, int payload) {
        if (!validUtf8(type, op, id, p, payload)) {
            return;
        }
        boolean upper = type == OpType.UPPER;
        long result = text.caseMapInPlace(src, p, payload, upper);
        if (result == TextKernels.UNCHANGED || result == TextKernels.IN_PLACE) {
            batch.paths[(result == TextKernels.UNCHANGED ? TransformPath.BORROWED : TransformPath.IN_PLACE).ordinal()]++;
            Responses.answerKindInPlace(src, at, kind);
            inRequest(index, at, length, type);
            return;
        }
        int mapped = Math.toIntExact(result);
        int size = HEADER_LENGTH + mapped;
        batch.paths[TransformPath.COPIED.ordinal()]++;
        long dst = size <= COPY_LIMIT ? room(size) : ownChunk(size);
        Responses.header(out, dst, mapped, Kinds.TEXT | RESPONSE_BIT, op, id);
        long written = text.caseMapTo(src, p, payload, upper, out, dst + HEADER_LENGTH);
        if (written != mapped) {
            throw new IllegalStateException("case mapping wrote " + written + " bytes, expected " + mapped);
        }
        copied(size, type);
    }

    private boolean validUtf8(OpType type, int op, long id, long p, int payload) {
        long bad = text.validateUtf8(src, p, payload);
        if (bad >= 0) {
            error(type, op, id, ErrorCode.INVALID_UTF8, "payload is not well-formed UTF-8 (byte " + bad + ")");
            return false;
        }
        return true;
    }

    private void error(OpType type, int op, long id, ErrorCode code, String message) {
        byte[] text = Responses.errorMessage(code, message);
        int size = Responses.errorSize(text);
        long at = room(size);
        Responses.error(out, at, op, id, code, text);
        written(size);
        batch.failed[type.ordinal()]++;
        batch.errors[code.ordinal()]++;
    }

    /**
     * The answer is {@code length} bytes of the request's memory from {@code index} (already in
     * answer form): copied into the chunk when small, else left there and written as a slice.
     */
    private void inRequest(int index, long at, int length, OpType type) {
        Batch b = batch;
        if (length <= COPY_LIMIT) {
            long dst = room(length);
            MemorySegment.copy(src, at, out, dst, length);
            copied(length, type);
        } else {
            b.segment(Batch.SEGMENT_SOURCE, 0, index, length);
            b.ok[type.ordinal()]++;
            b.answerBytes += length;
        }
    }

    /** Records a result of {@code size} bytes just written at the chunk's end. */
    private void copied(int size, OpType type) {
        written(size);
        batch.ok[type.ordinal()]++;
    }

    /** Records an answer of {@code size} bytes just written at the current chunk's end. */
    private void written(int size) {
        Batch b = batch;
        b.segment(Batch.SEGMENT_CHUNK, chunk, b.chunkUsed[chunk], size);
        b.chunkUsed[chunk] += size;
        b.answerBytes += size;
    }

    /**
     * Where the next {@code size} bytes of the current chunk start; a new chunk when they do not
     * fit (the I/O thread's bound leaves out errors and growing case maps).
     */
    private long room(int size) {
        Batch b = batch;
        if (out == null || outCapacity - b.chunkUsed[chunk] < size) {
            ByteBuf spare = alloc.directBuffer(Math.max(size, SPARE_CHUNK_BYTES));
            useChunk(b.addChunk(spare));
        }
        return outBase + b.chunkUsed[chunk];
    }

    /**
     * A chunk of exactly {@code size} bytes for one large answer, made current: the caller writes
     * the answer and records it; the next answer finds it full and takes a fresh chunk, so the
     * order of the segments stays the order of the answers.
     */
    private long ownChunk(int size) {
        useChunk(batch.addChunk(alloc.directBuffer(size, size)));
        return outBase;
    }

    private void useChunk(int i) {
        Batch b = batch;
        chunk = i;
        ByteBuf c = b.chunks[i];
        if (c == null) {
            out = null;
            outBase = 0;
            outCapacity = 0;
            return;
        }
        outCapacity = c.capacity();
        out = MemoryViews.segment(c, 0, outCapacity);
        outBase = MemoryViews.offset(c, 0);
    }
}
