package dev.framepipe.pipeline;

import dev.framepipe.protocol.ErrorCode;
import dev.framepipe.protocol.OpType;
import io.netty.buffer.ByteBuf;

/**
 * One request on its way through the pipeline, from the decoder to the answer on the socket.
 * Instances are pooled per lane ({@link FramePool}): taken on the I/O thread when a frame is
 * decoded, handed through the request ring to a worker, back through the completion ring, and
 * returned on the same I/O thread after the answer is written. The rings' release/acquire hand-offs publish the plain fields
 * from one side to the other.
 *
 * <p>Buffer ownership: {@link #request} (a retained slice of the whole frame, length field
 * first) is owned by the frame until the worker either releases it or moves it to
 * {@link #response} (answers written over the request's own memory). {@link #response} is
 * owned by the frame until the I/O thread writes it to the channel or releases it.
 */
public final class Frame {

    private final FramePool home;

    /** Who gets the answer (the connection); set by the I/O thread. */
    public FrameOwner owner;
    /** The whole request frame, length field first; null for a header-level failure. */
    public ByteBuf request;
    public int kind;
    public int op;
    public long id;
    public OpType type;
    /** System.nanoTime() when the frame was decoded. */
    public long startNanos;
    /** A failure found by the decoder (version, length); answered as is, then the connection closes. */
    public ErrorCode decodeError;
    public String decodeMessage;

    /** The answer, when the worker produced it as a buffer (transforms, PING). */
    public ByteBuf response;
    /**
     * What the I/O thread still has to encode into an answer, when {@link #response} is null:
     * a fixed-size result held in {@link #results}, or an error. Encoding on the I/O thread keeps
     * every pooled buffer allocated and released on that thread, so nothing crosses to a worker's
     * pool (which would cost heap for the recycler's hand-back queue).
     */
    public Answer answer = Answer.BUFFER;
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

    /** The form of a frame's answer. */
    public enum Answer { BUFFER, STATS, COUNT, ERROR }

    Frame(FramePool home) {
        this.home = home;
    }

    /** Takes a frame from {@code pool} and fills it in; the pool's I/O thread. */
    public static Frame take(FramePool pool, FrameOwner owner, ByteBuf request, int kind, int op, long id, OpType type,
                             long startNanos) {
        Frame f = pool.take();
        f.owner = owner;
        f.request = request;
        f.kind = kind;
        f.op = op;
        f.id = id;
        f.type = type;
        f.startNanos = startNanos;
        return f;
    }

    /** Releases whatever buffers the frame still owns. */
    public void releaseBuffers() {
        if (request != null) {
            request.release();
            request = null;
        }
        if (response != null) {
            response.release();
            response = null;
        }
    }

    /** Returns the frame to the pool; it must own no buffer any more. I/O thread. */
    public void recycle() {
        owner = null;
        request = null;
        response = null;
        type = null;
        decodeError = null;
        decodeMessage = null;
        error = null;
        errorMessage = null;
        answer = Answer.BUFFER;
        closeAfter = false;
        path = null;
        home.giveBack(this);
    }
}
