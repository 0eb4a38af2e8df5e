package dev.framepipe.server;

import dev.framepipe.metrics.RefusalMetrics;
import dev.framepipe.codec.FrameDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Closes a connection that trickles a frame (the slowloris attack: a frame started and then fed
 * a byte at a time, holding a connection slot and a frame-sized buffer for as long as the
 * client likes).
 *
 * <p>The rule: while a frame is in progress (its first byte has arrived and its last has not),
 * every window of {@code slow-frame-grace} must bring at least {@code slow-frame-min-rate ×
 * slow-frame-grace} bytes. A rate, not a deadline per frame, because a deadline would either
 * cut honest 16 MiB frames on slow links or let a client that announces a 16 MiB length
 * trickle for minutes; and tumbling windows rather than the average since the frame began, so
 * a client cannot send most of a large frame at once and then stall on the rest. Time during
 * which the server itself stopped reading (back-pressure) does not count, nor does time with a
 * complete frame held back by the gate. A connection sending no frame at all is the idle
 * timeout's business. The check runs a few times per window on the connection's own thread;
 * bytes are counted as they are read (after TLS, so they are frame bytes).
 */
final class SlowFrameGuard extends ChannelInboundHandlerAdapter {

    private final FrameDecoder decoder;
    private final RefusalMetrics refusals;
    private final long windowNanos;
    private final long minBytesPerWindow;
    private final long tickNanos;
    private final Runnable tick = this::tick;

    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> timer;
    private long windowStart = -1;
    private long windowBytes;

    SlowFrameGuard(FrameDecoder decoder, RefusalMetrics refusals, Duration grace, long minBytesPerSecond) {
        this.decoder = decoder;
        this.refusals = refusals;
        this.windowNanos = grace.toNanos();
        this.minBytesPerWindow = (long) Math.ceil(minBytesPerSecond * (windowNanos / 1e9));
        this.tickNanos = Math.clamp(windowNanos / 4, TimeUnit.MILLISECONDS.toNanos(20), TimeUnit.SECONDS.toNanos(1));
    }

    /** Whether the settings ask for the guard at all. */
    static boolean enabled(Duration grace, long minBytesPerSecond) {
        return minBytesPerSecond > 0 && !grace.isZero();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        timer = ctx.executor().schedule(tick, tickNanos, TimeUnit.NANOSECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf buf) {
            windowBytes += buf.readableBytes(); // counted only; ownership passes on untouched
        }
        ctx.fireChannelRead(msg);
    }

    private void tick() {
        timer = null;
        if (!ctx.channel().isActive()) {
            return;
        }
        long now = System.nanoTime();
        if (!decoder.frameInProgress() || !ctx.channel().config().isAutoRead()) {
            windowStart = -1; // nothing owed by the client, or the server is the one not reading
        } else if (windowStart < 0) {
            windowStart = now;
            windowBytes = 0;
        } else if (now - windowStart >= windowNanos) {
            if (windowBytes < minBytesPerWindow) {
                refusals.refused(RefusalMetrics.Reason.SLOW_FRAME);
                ctx.fireUserEventTriggered(new LimitExceeded(RefusalMetrics.Reason.SLOW_FRAME));
                return; // the connection is closing; no more checks
            }
            windowStart = now;
            windowBytes = 0;
        }
        timer = ctx.executor().schedule(tick, tickNanos, TimeUnit.NANOSECONDS);
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
