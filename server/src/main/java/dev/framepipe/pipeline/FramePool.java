package dev.framepipe.pipeline;

/**
 * Frames of one lane, reused. Frames are taken and given back on the lane's I/O thread only, so
 * the pool is a plain array stack: no atomics, and unlike Netty's Recycler no hand-back queue
 * whose chunks cost heap when many frames return at once.
 */
public final class FramePool {

    private final Frame[] free;
    private int size;

    /** @param max frames kept for reuse; more are left to the garbage collector */
    public FramePool(int max) {
        this.free = new Frame[max];
    }

    /** A cleared frame. Owner thread only. */
    public Frame take() {
        if (size == 0) {
            return new Frame(this);
        }
        Frame f = free[--size];
        free[size] = null;
        return f;
    }

    void giveBack(Frame f) {
        if (size < free.length) {
            free[size++] = f;
        }
    }
}
