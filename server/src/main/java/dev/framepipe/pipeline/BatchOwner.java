package dev.framepipe.pipeline;

/**
 * The connection batches belong to, as the lane sees it. Every method runs on the connection's
 * I/O thread.
 */
public abstract class BatchOwner {

    /** Set while this owner is on its lane's list of owners to call {@link #endOfRound} on. */
    boolean inRound;

    /**
     * A batch came back answered: write its answers ({@link Batch#writeResponses}) without
     * flushing, or drop them if the connection is gone. The lane releases and recycles the
     * batch after this returns.
     *
     * @param nowNanos {@link System#nanoTime()} read once for the round: its batches are written
     *                 together, and one clock read per batch is not needed
     */
    protected abstract void answered(Batch batch, long nowNanos);

    /**
     * The lane has released the buffers of the batch just {@link #answered}: memory counted
     * against them may be given back now. Not earlier: a budget returned before its buffer is
     * freed lets another connection allocate while both are still pinned.
     */
    protected void buffersReleased() {
    }

    /** Called once after a round of {@link #answered} calls: flush, resume reading, close. */
    protected abstract void endOfRound();
}
