package dev.framepipe.pipeline;

/**
 * Batches of one lane, reused. Taken and given back on the lane's I/O thread only, so the pool
 * is a plain array stack: no atomics, and unlike Netty's Recycler no hand-back queue.
 */
final class BatchPool {

    private final Batch[] free;
    private int size;

    /** @param max batches kept for reuse (the lane's capacity: at most that many are in flight) */
    BatchPool(int max) {
        this.free = new Batch[max];
    }

    /** A cleared batch. Owner thread only. */
    Batch acquire() {
        if (size == 0) {
            return new Batch(this);
        }
        Batch b = free[--size];
        free[size] = null;
        return b;
    }

    void giveBack(Batch b) {
        if (size < free.length) {
            free[size++] = b;
        }
    }
}
