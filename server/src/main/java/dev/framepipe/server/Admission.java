package dev.framepipe.server;

import static dev.framepipe.protocol.FrameDescriptor.*;

import dev.framepipe.codec.FrameDecoder;
import dev.framepipe.codec.MemoryViews;
import dev.framepipe.codec.OpType;
import dev.framepipe.codec.Responses;
import dev.framepipe.kernel.FloatKernels;
import dev.framepipe.kernel.Kernels;
import dev.framepipe.kernel.StatsAccumulator;
import dev.framepipe.pipeline.Batch;
import dev.framepipe.pipeline.BatchProcessor;
import dev.framepipe.protocol.ErrorCode;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Frames in: takes each decoded frame in place (the decoder's {@link FrameDecoder.FrameSink}),
 * gathers the frames of one decoding pass into one {@link Batch} and hands it to the lane, and
 * pauses reading when the connection may not take more: its in-flight limit, a full lane, a
 * socket it cannot write to, or a large frame waiting for direct memory.
 *
 * <p>Per frame the work is a header read, a table look-up and an array store; per pass, one
 * batch sealed and offered (one ring element, one wake-up per loop round for all connections).
 *
 * <p>A STATS frame too large for one read is folded here as it arrives ({@link #fold}, the STATS
 * kernel on the I/O thread) and only its answer enters a batch ({@link #onFoldedFrame}).
 */
final class Admission extends ChannelInboundHandlerAdapter
        implements FrameDecoder.FrameSink, DirectMemoryBudget.Waiter {

    private final Connection conn;
    private final int maxInFlight;
    private final Runnable laneHasRoom = this::laneHasRoom;
    private ChannelHandlerContext ctx;
    /** The batch of the current decoding pass, not yet submitted; null between passes. */
    private Batch batch;
    private long batchBytes;
    private long passNanos;
    private boolean waitingForLane;
    /** Bytes the budget granted while this connection waited (owned here until handed to the decoder). */
    private boolean waitingForMemory;
    /** STATS kernels for the frames folded as they arrive; I/O thread. */
    private final FloatKernels floats = Kernels.floats();
    /** The folding frame's accumulator (made at the first fold). */
    private StatsAccumulator foldAcc;

    Admission(Connection conn) {
        this.conn = conn;
        this.maxInFlight = conn.shared.config().maxInFlight();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    // ---- the decoder's sink ----

    @Override
    public boolean admitting() {
        Connection c = conn;
        if (c.state != Connection.State.OPEN || c.pauseReasons != 0) {
            return false;
        }
        if (c.inFlight >= maxInFlight) {
            c.pause(Connection.PAUSE_IN_FLIGHT);
            return false;
        }
        if ((batch == null || batch.full()) && !c.lane.hasRoom()) {
            c.pause(Connection.PAUSE_LANE_FULL);
            if (!waitingForLane) {
                waitingForLane = true;
                c.lane.waitForRoom(laneHasRoom);
            }
            return false;
        }
        return true;
    }

    @Override
    public void onFrame(ByteBuf buf, int index, int length, long nowNanos) {
        Batch b = batch;
        if (b != null && (buf != b.sourceBuffer() || b.full())) {
            submit();
            b = null;
        }
        if (b == null) {
            b = batch = conn.lane.newBatch(conn.answers);
            passNanos = nowNanos;
        }
        OpType type = OpType.of(kind(buf, index), op(buf, index));
        b.add(buf, index, length, type, BatchProcessor.answerBound(type, length));
        batchBytes += length;
        conn.counters.received(type);
        conn.inFlight++;
        conn.lastFrameNanos = nowNanos;
    }

    @Override
    public void onAssembledFrame(ByteBuf buf, int length, long nowNanos, long reserved) {
        if (batch != null) {
            submit(); // frames before it go first, in their own batch
        }
        onFrame(buf, 0, length, nowNanos);
        batch.charge(reserved); // the reservation now travels with the frame, released when its answer has left
        submit();
    }

    // ---- large STATS frames folded as they arrive (FrameDecoder's class comment) ----

    @Override
    public boolean beginFold(int op, long id, int payloadBytes) {
        StatsAccumulator acc = foldAcc;
        if (acc == null) {
            acc = foldAcc = new StatsAccumulator(); // once per connection that sends one
        }
        acc.reset();
        return true;
    }

    @Override
    public void fold(ByteBuf buf, int index, int length) {
        floats.stats(MemoryViews.segment(buf, index, length), MemoryViews.offset(buf, index), length >>> 2, foldAcc);
    }

    @Override
    public void onFoldedFrame(int op, long id, int frameSize, long nowNanos) {
        if (batch != null) {
            submit(); // frames before it go first
        }
        StatsAccumulator acc = foldAcc;
        ByteBuf answer = ctx.alloc().directBuffer(Responses.STATS_SIZE, Responses.STATS_SIZE);
        try {
            Responses.stats(MemoryViews.segment(answer, 0, Responses.STATS_SIZE), MemoryViews.offset(answer, 0),
                    op, id, acc.count(), acc.sum(), acc.min(), acc.max(), acc.mean(), acc.variance());
            answer.writerIndex(Responses.STATS_SIZE);
            Batch b = batch = conn.lane.newBatch(conn.answers);
            passNanos = nowNanos;
            b.addAnswer(answer, 0, Responses.STATS_SIZE, OpType.STATS); // the batch takes its own reference
        } finally {
            answer.release();
        }
        batchBytes = Responses.STATS_SIZE; // what is left to do: write the answer
        conn.counters.received(OpType.STATS);
        conn.inFlight++;
        conn.lastFrameNanos = nowNanos;
        submit();
    }

    @Override
    public void endOfPass() {
        if (batch != null) {
            submit();
        }
    }

    private void submit() {
        Batch b = batch;
        batch = null;
        b.seal(ctx.alloc(), passNanos);
        long bytes = batchBytes;
        batchBytes = 0;
        conn.lane.submit(b, bytes);
    }

    @Override
    public boolean reserve(long bytes) {
        if (conn.shared.memory().reserveOrWait(bytes, this)) {
            return true;
        }
        waitingForMemory = true;
        conn.pause(Connection.PAUSE_MEMORY);
        return false;
    }

    /** From the budget, under its lock, on any thread: the bytes are ours; take them home. */
    @Override
    public void granted(long bytes) {
        ctx.executor().execute(() -> {
            waitingForMemory = false;
            if (conn.state == Connection.State.CLOSED) {
                conn.shared.memory().release(bytes); // nobody left to use them
                return;
            }
            conn.decoder.reserved(bytes); // the large frame is assembled now (or the bytes go back)
            conn.resume(Connection.PAUSE_MEMORY);
        });
    }

    @Override
    public void unreserve(long bytes) {
        conn.shared.memory().release(bytes);
    }

    @Override
    public boolean onFailure(ErrorCode code, int op, long id, String message) {
        // The last answer this connection owes: written once every earlier one is.
        conn.terminal = new Connection.Terminal(code, op, id, message);
        conn.counters.received(OpType.UNKNOWN_KIND);
        conn.closer.check();
        return true;
    }

    // ---- events ----

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            conn.resume(Connection.PAUSE_UNWRITABLE);
        } else if ((conn.pauseReasons & Connection.PAUSE_UNWRITABLE) == 0 && !conn.closingOrClosed()) {
            conn.pause(Connection.PAUSE_UNWRITABLE);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (batch != null) {
            Batch b = batch; // a pass cut short by a failure: nothing of it was submitted
            batch = null;
            b.release();
            b.recycle();
        }
        if (waitingForMemory) {
            conn.shared.memory().cancel(this);
        }
        ctx.fireChannelInactive();
    }

    private void laneHasRoom() {
        waitingForLane = false;
        if (conn.state != Connection.State.CLOSED) {
            conn.resume(Connection.PAUSE_LANE_FULL);
        }
    }
}
