package dev.framepipe.pipeline;

import dev.framepipe.protocol.ErrorCode;
import dev.framepipe.codec.OpType;
import io.netty.buffer.ByteBuf;
import java.lang.foreign.MemorySegment;

/**
 * One request on its way through the pipeline, from the decoder to the answer on the socket.
 * Instances are pooled per lane ({@link FramePool}): taken on the I/O thread when a frame is
 * decoded, handed through the request ring to a worker, back through the completion ring, and
 * returned on the same I/O thread after the answer is written. The rings' release/acquire
 * hand-offs publish the plain fields from one side to the other.
 *
 * <p>The frame's bytes stay where the socket read put them: {@link #source} from
 * {@link #sourceIndex}, {@link #length} bytes, length field first. Workers see them only as
 * {@link #memory} at {@link #address} and never touch a {@code ByteBuf}: reference counts,
 * slices and pooled-buffer bookkeeping all stay on the I/O thread, so no buffer object's cache
 * line moves between cores for each frame (measured: see docs/performance.md, the per-frame
 * slice).
 *
 * <p>Buffer ownership: the frame holds one reference to {@link #source} until the I/O thread
 * has written the answer ({@link #releaseBuffers}); {@link #response}, when a worker made one,
 * is owned by the frame until the I/O thread writes or releases it.
 */
public final class Frame {

    private final FramePool home;

    /** Who gets the answer (the connection); set by the I/O thread. */
    public FrameOwner owner;
    /** The buffer holding the request; null for a header-level failure. I/O thread only. */
    public ByteBuf source;
    /** Index in {@link #source} of the frame's first byte. */
    public int sourceIndex;
    /** The frame's size in bytes, length field and header included; 0 without a request. */
    public int length;
    /** The request's bytes, for workers: byte {@code i} of the frame is at {@code address + i}. */
    public MemorySegment memory;
    public long address;
    public int kind;
    public int op;
    public long id;
    public OpType type;
    /** System.nanoTime() when the frame was decoded. */
    public long startNanos;
    /** A failure found by the decoder (version, length); answered as is, then the connection closes. */
    public ErrorCode decodeError;
    public String decodeMessage;

    /** How the answer is held; see {@link Answer}. */
    public Answer answer = Answer.NONE;
    /** {@link Answer#REQUEST}: where the answer starts, relative to the frame's first byte. */
    public int answerOffset;
    /** {@link Answer#REQUEST}: the answer's size in bytes, header included. */
    public int answerLength;
    /** {@link Answer#BUFFER}: the answer, in a buffer a worker allocated. */
    public ByteBuf response;
    /** STATS: count, sum, min, max, mean, variance (count as a double-encoded long); COUNT: four longs. */
    public final long[] results = new long[6];
    /** The error answered, or null when the answer is a result. */
    public ErrorCode error;
    /** The error's message, for {@link Answer#ERROR}. */
    public String errorMessage;
    /** Whether the connection closes once this answer is flushed. */
    public boolean closeAfter;
    /** How a transform made its answer; null for other ops. */
    public TransformPath path;

    /**
     * The form of a frame's answer. Values ({@link #STATS}, {@link #COUNT}) are encoded by the
     * I/O thread straight into its output buffer, errors into a small buffer of their own
     * ({@link FrameAnswers}).
     */
    public enum Answer {
        /** Not processed yet. */
        NONE,
        /** Bytes in the request's own memory: {@link #answerOffset}, {@link #answerLength}. */
        REQUEST,
        /** {@link #response}. */
        BUFFER,
        /** {@link #results}, encoded as a STATS answer. */
        STATS,
        /** {@link #results}, encoded as a COUNT answer. */
        COUNT,
        /** {@link #error} and {@link #errorMessage}. */
        ERROR
    }

    Frame(FramePool home) {
        this.home = home;
    }

    /**
     * Takes a frame from {@code pool} and fills it in; the pool's I/O thread. The frame takes
     * over one reference to {@code source} (null for a failure without a request).
     */
    public static Frame take(FramePool pool, FrameOwner owner, ByteBuf source, int index, int length,
                             int kind, int op, long id, OpType type, long startNanos) {
        Frame f = pool.take();
        f.owner = owner;
        f.source = source;
        if (source != null) {
            f.sourceIndex = index;
            f.length = length;
            f.memory = MemoryViews.segment(source, index, length);
            f.address = MemoryViews.offset(source, index);
        }
        f.kind = kind;
        f.op = op;
        f.id = id;
        f.type = type;
        f.startNanos = startNanos;
        return f;
    }

    /** Makes the answer the request's own bytes from {@code offset}, {@code size} bytes. Worker. */
    void answerInRequest(int offset, int size) {
        answerOffset = offset;
        answerLength = size;
        answer = Answer.REQUEST;
    }

    /** Releases whatever buffers the frame still owns. I/O thread. */
    public void releaseBuffers() {
        if (source != null) {
            source.release();
            source = null;
        }
        if (response != null) {
            response.release();
            response = null;
        }
    }

    /** Returns the frame to the pool; it must own no buffer any more. I/O thread. */
    public void recycle() {
        owner = null;
        source = null;
        memory = null;
        length = 0;
        response = null;
        type = null;
        decodeError = null;
        decodeMessage = null;
        error = null;
        errorMessage = null;
        answer = Answer.NONE;
        closeAfter = false;
        path = null;
        home.giveBack(this);
    }
}
