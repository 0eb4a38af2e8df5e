package dev.framepipe.server;

import static dev.framepipe.protocol.FrameDescriptor.*;

import dev.framepipe.metrics.ConnectionErrors;
import dev.framepipe.metrics.PipelineCounters;
import dev.framepipe.metrics.RefusalMetrics;
import dev.framepipe.pipeline.Frame;
import dev.framepipe.pipeline.FrameAnswers;
import dev.framepipe.pipeline.FrameOwner;
import dev.framepipe.pipeline.Lane;
import dev.framepipe.pipeline.MemoryViews;
import dev.framepipe.codec.DecodeFailure;
import dev.framepipe.codec.FrameDecoder;
import dev.framepipe.codec.OpType;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One frame connection's life after decoding: admits frames into its lane (or pauses reading
 * when the lane, the connection's in-flight limit or the socket's outbound buffer is full),
 * writes the answers the lane hands back, and closes the connection the way the protocol
 * prescribes. Everything here runs on the connection's I/O thread, so its state is plain.
 *
 * <p>How it closes (after an error that closes, a drain, or an idle timeout): every earlier
 * answer is flushed, then the sending side is shut down (FIN), then input is read and
 * discarded until the client closes or {@code close-linger} passes, and only then is the
 * socket released; closing with unread input would send a reset that can destroy answers the
 * client has not read yet.
 */
public final class ConnectionHandler extends ChannelDuplexHandler implements FrameDecoder.FrameSink {

    private static final System.Logger LOG = System.getLogger(ConnectionHandler.class.getName());

    private static final int PAUSE_LANE_FULL = 1;
    private static final int PAUSE_IN_FLIGHT = 2;
    private static final int PAUSE_UNWRITABLE = 4;
    private static final int PAUSE_MEMORY = 8;

    private enum State { OPEN, DRAINING, CLOSING, CLOSED }

    private final ConnectionContext shared;
    private final Lane lane;
    /** This I/O thread's counters (the lane's): plain increments, no contention. */
    private final PipelineCounters counters;
    private final FrameDecoder decoder;
    private final Owner owner = new Owner();
    private final Runnable laneHasRoom = this::laneHasRoom;
    private final Runnable idleCheck = this::idleCheck;
    private final Runnable lingerExpired = this::lingerExpired;
    private final Runnable ageReached = this::ageReached;
    private final DirectMemoryBudget.Waiter memoryWaiter = this::memoryAvailable;

    /**
     * Answers up to this size are copied, back to back, into one buffer per write-back batch
     * ({@link #coalesced}) and written to the channel once, instead of one Netty write each: a
     * write costs an outbound-buffer entry, a promise check and, when flushed, an iovec slot and
     * a release, several times the cost of copying a small answer. Larger answers (scaled float
     * arrays, long texts) are written as they are, zero-copy.
     */
    static final int COALESCE_MAX_BYTES = 1024;
    /** Size of a coalescing buffer (pooled, direct); a batch that fills one starts another. */
    static final int COALESCE_BUFFER_BYTES = 16 * 1024;

    private ChannelHandlerContext ctx;
    /**
     * The current write-back batch's small answers, not yet written; null between batches. Owned
     * by this handler until {@link #writeCoalesced} passes it to the channel. I/O thread.
     */
    private ByteBuf coalesced;
    private State state = State.OPEN;
    private int inFlight;
    private int pauseReasons;
    private boolean waitingForLane;
    private boolean closeAfterFlush;
    private boolean closeRequested;
    private boolean memoryGrant;
    private long lastFrameNanos;
    private ScheduledFuture<?> idleTimer;
    private ScheduledFuture<?> lingerTimer;
    private ScheduledFuture<?> ageTimer;

    public ConnectionHandler(ConnectionContext shared, Lane lane, int maxFrameBytes) {
        this.shared = shared;
        this.lane = lane;
        this.counters = lane.counters();
        this.decoder = new FrameDecoder(maxFrameBytes, this);
    }

    /** The decoder to place before this handler in the channel's pipeline. */
    public FrameDecoder decoder() {
        return decoder;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        lastFrameNanos = System.nanoTime();
        shared.registry().add(this);
        long idle = shared.config().idleTimeout().toNanos();
        if (idle > 0) {
            idleTimer = ctx.executor().schedule(idleCheck, idle, TimeUnit.NANOSECONDS);
        }
        long lifetime = ConnectionAge.lifetimeNanos(shared.config().maxConnectionAge());
        if (lifetime > 0) {
            ageTimer = ctx.executor().schedule(ageReached, lifetime, TimeUnit.NANOSECONDS);
        }
        if (shared.draining()) {
            startDrain(); // accepted just as the drain began
        }
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        state = State.CLOSED;
        releaseCoalesced(); // never set between batches; a guard against a batch cut short by a failure
        cancelTimers();
        shared.registry().remove(this);
        ctx.fireChannelInactive();
    }

    // ---- frames in ----

    @Override
    public boolean admitting() {
        if (state == State.CLOSING || state == State.CLOSED) {
            return false;
        }
        if (pauseReasons != 0) {
            return false;
        }
        if (inFlight >= shared.config().maxInFlight()) {
            pause(PAUSE_IN_FLIGHT);
            return false;
        }
        if (shared.memory().overBudget()) {
            if (memoryGrant) {
                memoryGrant = false; // the budget's liveness valve let this one frame through
            } else {
                pause(PAUSE_MEMORY);
                shared.memory().await(memoryWaiter);
                return false;
            }
        }
        if (!lane.hasRoom()) {
            pause(PAUSE_LANE_FULL);
            if (!waitingForLane) {
                waitingForLane = true;
                lane.waitForRoom(laneHasRoom);
            }
            return false;
        }
        return true;
    }

    /**
     * A decoded frame, in place in the buffer it arrived in (the decoder admitted it through
     * {@link #admitting}). The frame takes its own reference to the buffer; no slice is made.
     */
    @Override
    public void onFrame(ByteBuf buf, int index, int length, long nowNanos) {
        int kind = kind(buf, index);
        int op = op(buf, index);
        OpType type = OpType.of(kind, op);
        buf.retain(); // the frame's reference, released on this thread once the answer is written
        submit(Frame.take(lane.frames(), owner, buf, index, length, kind, op, id(buf, index), type, nowNanos));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof DecodeFailure failure) {
            Frame frame = Frame.take(lane.frames(), owner, null, 0, 0, 0, failure.op(), failure.id(), OpType.OTHER,
                    System.nanoTime());
            frame.decodeError = failure.code();
            frame.decodeMessage = failure.message();
            submit(frame);
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    private void submit(Frame frame) {
        counters.received(frame.type);
        lastFrameNanos = frame.startNanos;
        inFlight++;
        lane.submit(frame);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof LimitExceeded) {
            // A guard found the client over a limit: stop taking frames, answer the admitted ones, close.
            closeRequested = true;
            decoder.discard();
            finishIfDone();
            return;
        }
        if (evt instanceof ChannelInputShutdownEvent) {
            if (state == State.CLOSING) {
                ctx.close(); // the client finished too: nothing unread is left to cause a reset
            } else {
                finishIfDone();
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            resume(PAUSE_UNWRITABLE);
        } else if ((pauseReasons & PAUSE_UNWRITABLE) == 0 && state != State.CLOSING) {
            pause(PAUSE_UNWRITABLE);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        shared.errors().caught(ConnectionErrors.Port.FRAME, ctx.channel(), cause); // counted; a stack trace only for a bug
        ctx.close();
    }

    // ---- back-pressure ----

    private void pause(int reason) {
        if (pauseReasons == 0) {
            ctx.channel().config().setAutoRead(false);
        }
        if ((pauseReasons & reason) == 0) {
            pauseReasons |= reason;
            if (reason == PAUSE_LANE_FULL) {
                counters.pausedRingFull();
            } else if (reason == PAUSE_UNWRITABLE) {
                counters.pausedUnwritable();
            }
        }
    }

    private void resume(int reason) {
        if ((pauseReasons & reason) == 0) {
            return;
        }
        pauseReasons &= ~reason;
        if (pauseReasons == 0 && (state == State.OPEN || state == State.DRAINING)) {
            decoder.resume(); // frames already buffered first; this may pause again
            if (pauseReasons == 0 && state != State.CLOSING && state != State.CLOSED) {
                ctx.channel().config().setAutoRead(true);
            }
            finishIfDone();
        }
    }

    /** From the budget's sampler thread: hop to this connection's thread. */
    private void memoryAvailable(boolean grant) {
        ctx.executor().execute(() -> {
            if (grant) {
                memoryGrant = true;
            }
            if (state != State.CLOSED) {
                resume(PAUSE_MEMORY);
            }
        });
    }

    private void laneHasRoom() {
        waitingForLane = false;
        if (state != State.CLOSED) {
            resume(PAUSE_LANE_FULL);
        }
    }

    // ---- answers out ----

    /** The pipeline's view of this connection: takes answers on the I/O thread. */
    private final class Owner extends FrameOwner {
        @Override
        protected void complete(Frame frame, long nowNanos) {
            inFlight--;
            if (frame.path != null) {
                counters.transform(frame.path);
            }
            if (state != State.CLOSED) {
                FrameAnswers.prepare(frame, ctx.alloc());
                counters.completed(frame.type, frame.error, nowNanos - frame.startNanos);
                int size = FrameAnswers.size(frame);
                counters.bytesOut(size);
                if (size <= COALESCE_MAX_BYTES) {
                    coalesce(frame, size);
                } else {
                    writeCoalesced(); // answers stay in order
                    ctx.write(FrameAnswers.take(frame, ctx.alloc()), ctx.voidPromise());
                }
                if (frame.closeAfter) {
                    closeAfterFlush = true;
                }
            }
            // else: the client is gone; the answer has nowhere to go
            frame.releaseBuffers();
            frame.recycle();
        }

        /**
         * Writes a small answer into this batch's shared buffer: values are encoded straight
         * into it, answers in the request's memory are copied with {@code MemorySegment.copy}
         * (ByteBuf.writeBytes between direct buffers goes through NIO ByteBuffer views here,
         * since Netty runs without sun.misc.Unsafe on JDK 25: measured 150 B/frame).
         */
        private void coalesce(Frame frame, int size) {
            ByteBuf out = coalesced;
            if (out != null && out.writableBytes() < size) {
                writeCoalesced();
                out = null;
            }
            if (out == null) {
                out = coalesced = ctx.alloc().directBuffer(COALESCE_BUFFER_BYTES);
            }
            int at = out.writerIndex();
            FrameAnswers.copyTo(frame, MemoryViews.segment(out, at, size), MemoryViews.offset(out, at));
            out.writerIndex(at + size);
        }

        @Override
        protected void endOfBatch() {
            if (state == State.CLOSED) {
                releaseCoalesced();
                return;
            }
            writeCoalesced();
            ctx.flush();
            if (closeAfterFlush) {
                beginClose();
                return;
            }
            if ((pauseReasons & PAUSE_IN_FLIGHT) != 0 && inFlight <= shared.config().maxInFlight() / 2) {
                resume(PAUSE_IN_FLIGHT);
            }
            finishIfDone();
        }
    }

    /** Hands the batch's shared buffer, if any, to the channel (ownership passes to Netty). */
    private void writeCoalesced() {
        ByteBuf out = coalesced;
        if (out != null) {
            coalesced = null;
            ctx.write(out, ctx.voidPromise());
        }
    }

    private void releaseCoalesced() {
        ByteBuf out = coalesced;
        if (out != null) {
            coalesced = null;
            out.release();
        }
    }

    // ---- drain, idle, close ----

    /** The server is draining: answer what was read, decline the rest, close. I/O thread. */
    void startDrain() {
        retire(null);
    }

    /**
     * max-connection-age: the connection retires the way a drain ends it, so the client learns
     * exactly which requests were not run (the one answered SHUTTING_DOWN and every later one,
     * or, when nothing more arrives before the FIN, every request still unanswered) and can send
     * them again on a new connection, which may land on another replica.
     */
    private void ageReached() {
        ageTimer = null;
        if (state == State.OPEN) {
            LOG.log(System.Logger.Level.DEBUG, "connection " + ctx.channel() + " reached max-connection-age");
            retire(ConnectionAge.DECLINE_MESSAGE);
        }
    }

    /** Answer what was read, decline the rest with SHUTTING_DOWN (message null: the drain's), close. */
    private void retire(String declineMessage) {
        if (state != State.OPEN) {
            return;
        }
        state = State.DRAINING;
        if (declineMessage == null) {
            decoder.decline();
        } else {
            decoder.decline(declineMessage);
        }
        finishIfDone();
    }

    /** Closes once nothing is owed: input ended or draining, no frame in flight or buffered. */
    private void finishIfDone() {
        if (state == State.CLOSING || state == State.CLOSED || inFlight > 0 || decoder.hasBufferedBytes()) {
            return;
        }
        if (state == State.DRAINING || closeRequested || decoder.inputClosed()) {
            beginClose();
        }
    }

    private void idleCheck() {
        idleTimer = null;
        if (state == State.CLOSED) {
            return;
        }
        long idle = shared.config().idleTimeout().toNanos();
        long quiet = System.nanoTime() - lastFrameNanos;
        if (state == State.CLOSING) {
            ctx.close(); // a closing connection that stays stuck this long (client not reading) is cut
            return;
        }
        if (inFlight == 0 && quiet >= idle) {
            LOG.log(System.Logger.Level.DEBUG, "closing idle connection " + ctx.channel());
            shared.refusals().refused(RefusalMetrics.Reason.IDLE_TIMEOUT);
            beginClose();
            idleTimer = ctx.executor().schedule(idleCheck, idle, TimeUnit.NANOSECONDS);
        } else {
            idleTimer = ctx.executor().schedule(idleCheck, Math.max(idle - quiet, idle / 4), TimeUnit.NANOSECONDS);
        }
    }

    /** Flush, FIN, discard input until the client closes or the linger passes, then close. */
    private void beginClose() {
        if (state == State.CLOSING || state == State.CLOSED) {
            return;
        }
        state = State.CLOSING;
        decoder.discard();
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) f -> {
            if (!f.channel().isActive()) {
                return;
            }
            if (decoder.inputClosed()) {
                f.channel().close();
                return;
            }
            TlsClose.shutdownOutput((DuplexChannel) f.channel()).addListener((ChannelFutureListener) g -> {
                if (g.channel().isActive()) {
                    g.channel().config().setAutoRead(true); // read (and discard) until the client's FIN
                    lingerTimer = g.channel().eventLoop().schedule(lingerExpired,
                            shared.config().closeLinger().toNanos(), TimeUnit.NANOSECONDS);
                }
            });
        });
    }

    private void lingerExpired() {
        lingerTimer = null;
        ctx.close();
    }

    /** Cuts the connection at once (drain timeout). */
    void forceClose() {
        ctx.close();
    }

    private void cancelTimers() {
        if (idleTimer != null) {
            idleTimer.cancel(false);
            idleTimer = null;
        }
        if (lingerTimer != null) {
            lingerTimer.cancel(false);
            lingerTimer = null;
        }
        if (ageTimer != null) {
            ageTimer.cancel(false);
            ageTimer = null;
        }
    }

    io.netty.channel.Channel channel() {
        return ctx.channel();
    }
}
