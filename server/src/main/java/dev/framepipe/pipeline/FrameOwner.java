package dev.framepipe.pipeline;

/**
 * The connection a frame belongs to, as the pipeline sees it. Every method runs on the
 * connection's I/O thread.
 */
public abstract class FrameOwner {

    /** Set while this owner is on its lane's list of owners to call {@link #endOfBatch} on. */
    boolean inBatch;

    /**
     * Takes the finished frame: writes its answer (without flushing) or releases it.
     *
     * @param nowNanos {@link System#nanoTime()} read once for the whole write-back batch: the
     *                 frames of a batch are written together, and one clock read per frame
     *                 was measurable on the I/O thread
     */
    protected abstract void complete(Frame frame, long nowNanos);

    /** Called once after a batch of {@link #complete} calls: flush, resume reading, close. */
    protected abstract void endOfBatch();
}
