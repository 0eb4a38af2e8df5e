package dev.framepipe.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The connection's two clocks, as events: {@link ConnectionEvent#IDLE_TIMEOUT} when no complete
 * frame arrived and no answer was owed for {@code idle-timeout} (checked again after that long
 * from the last frame, never earlier), and {@link ConnectionEvent#MAX_AGE} once the connection
 * reaches its lifetime under {@code max-connection-age}. It decides nothing else: what an event
 * does is {@link GracefulClose}'s business. One timer of each kind per connection, on its own
 * event loop, cancelled when the connection closes.
 */
final class ConnectionTimers extends ChannelInboundHandlerAdapter {

    private final Connection conn;
    private final long idleNanos;
    private final Runnable idleCheck = this::idleCheck;
    private final Runnable ageReached = this::ageReached;
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> idleTimer;
    private ScheduledFuture<?> ageTimer;

    ConnectionTimers(Connection conn) {
        this.conn = conn;
        this.idleNanos = conn.shared.config().idleTimeout().toNanos();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        conn.lastFrameNanos = System.nanoTime();
        if (idleNanos > 0) {
            idleTimer = ctx.executor().schedule(idleCheck, idleNanos, TimeUnit.NANOSECONDS);
        }
        long lifetime = ConnectionAge.lifetimeNanos(conn.shared.config().maxConnectionAge());
        if (lifetime > 0) {
            ageTimer = ctx.executor().schedule(ageReached, lifetime, TimeUnit.NANOSECONDS);
        }
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (idleTimer != null) {
            idleTimer.cancel(false);
            idleTimer = null;
        }
        if (ageTimer != null) {
            ageTimer.cancel(false);
            ageTimer = null;
        }
        ctx.fireChannelInactive();
    }

    private void idleCheck() {
        idleTimer = null;
        if (conn.state == Connection.State.CLOSED) {
            return;
        }
        long quiet = System.nanoTime() - conn.lastFrameNanos;
        boolean idle = conn.closingOrClosed() || (conn.inFlight == 0 && quiet >= idleNanos);
        if (idle) {
            ctx.fireUserEventTriggered(ConnectionEvent.IDLE_TIMEOUT);
        }
        if (conn.state != Connection.State.CLOSED) {
            // Next look: a full period after the last frame; a quarter period from now while
            // answers are owed (they may finish any time); a full period after the event fired
            // (a close that stays stuck that long is cut).
            long wait = idle ? idleNanos : conn.inFlight > 0 ? idleNanos / 4 : idleNanos - quiet;
            idleTimer = ctx.executor().schedule(idleCheck, Math.max(wait, 1), TimeUnit.NANOSECONDS);
        }
    }

    private void ageReached() {
        ageTimer = null;
        if (conn.state == Connection.State.OPEN) {
            ctx.fireUserEventTriggered(ConnectionEvent.MAX_AGE);
        }
    }
}
