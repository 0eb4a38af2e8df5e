package dev.framepipe.server;

import dev.framepipe.metrics.ConnectionErrors;
import dev.framepipe.metrics.RefusalMetrics;
import dev.framepipe.security.TlsClose;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The protocol's way of ending a connection, decided in one place ({@link #check}) whatever
 * started it: the client's half-close, a refused header, a limit a guard found
 * ({@link LimitExceeded}), the idle timeout, {@code max-connection-age}, or the server's drain.
 *
 * <h2>When</h2>
 * Only once nothing is owed: every frame admitted is answered, the connection's last answer
 * (a refused header, or the SHUTTING_DOWN that declines a request and everything after it) is
 * written after them, and no complete frame is left unread in the decoder. A draining or
 * retiring connection also first reads whatever already sat in its receive buffer (one pass of
 * its event loop with reading on, {@link LoopIoHandler#afterNextIo}): the first request found
 * there is declined, so a request the client sent before the drain is never dropped unanswered.
 * When nothing was there, it keeps reading for up to {@code close-linger} before its FIN and
 * declines the first request that arrives meanwhile: a pipelining client has requests on the
 * wire at any moment, and without the wait the FIN would cross them and they would be read only
 * to be discarded, neither answered nor declined. An idle client gets its FIN when the wait
 * ends; one that half-closed, at once.
 *
 * <h2>How</h2>
 * Every answer is flushed, then the sending side is shut down (FIN; over TLS close_notify
 * first), then input is read and discarded until the client closes or {@code close-linger}
 * passes, and only then is the socket released: closing with unread input would send a reset,
 * which can destroy answers the client has not read yet.
 */
final class GracefulClose extends ChannelInboundHandlerAdapter {

    private static final System.Logger LOG = System.getLogger(GracefulClose.class.getName());

    private final Connection conn;
    private final Runnable lingerExpired = this::lingerExpired;
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> lingerTimer;
    /** A guard found the client over a limit: close once nothing is owed. */
    private boolean closeRequested;
    /** Draining or retiring: the receive buffer has been read once with reading on. */
    private boolean drainRead;
    /** Draining or retiring with nothing declined: how long to wait for a request to decline. */
    private ScheduledFuture<?> declineWait;
    private boolean declineWaitOver;

    GracefulClose(Connection conn) {
        this.conn = conn;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        conn.shared.registry().add(this);
        if (conn.shared.draining()) {
            startDrain(); // accepted just as the drain began
        }
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        conn.state = Connection.State.CLOSED;
        if (lingerTimer != null) {
            lingerTimer.cancel(false);
            lingerTimer = null;
        }
        cancelDeclineWait();
        conn.shared.registry().remove(this);
        ctx.fireChannelInactive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof LimitExceeded) {
            // The guard counted the refusal: stop taking frames, answer the admitted ones, close.
            closeRequested = true;
            conn.decoder.discard();
            check();
        } else if (evt instanceof ChannelInputShutdownEvent) {
            if (conn.state == Connection.State.CLOSING) {
                ctx.close(); // the client finished too: nothing unread is left to cause a reset
            } else {
                check();
            }
        } else if (evt == ConnectionEvent.IDLE_TIMEOUT) {
            if (conn.state == Connection.State.CLOSING) {
                ctx.close(); // a close stuck this long (the client does not read) is cut
            } else if (!conn.closingOrClosed()) {
                LOG.log(System.Logger.Level.DEBUG, "closing idle connection " + ctx.channel());
                conn.shared.refusals().refused(RefusalMetrics.Reason.IDLE_TIMEOUT);
                beginClose();
            }
        } else if (evt == ConnectionEvent.MAX_AGE) {
            LOG.log(System.Logger.Level.DEBUG, "connection " + ctx.channel() + " reached max-connection-age");
            retire(ConnectionAge.DECLINE_MESSAGE);
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        conn.shared.errors().caught(ConnectionErrors.Port.FRAME, ctx.channel(), cause); // counted; a stack trace only for a bug
        ctx.close();
    }

    /** The server is draining: answer what was read, decline the rest, close. I/O thread. */
    void startDrain() {
        retire(null);
    }

    /** Cuts the connection at once (drain timeout). I/O thread. */
    void forceClose() {
        ctx.close();
    }

    io.netty.channel.Channel channel() {
        return ctx.channel();
    }

    /**
     * Answer what was decoded, decline the next request with SHUTTING_DOWN (message null: the
     * drain's), read what the socket already holds so that a waiting request is declined too,
     * then close.
     */
    private void retire(String declineMessage) {
        if (conn.state != Connection.State.OPEN) {
            return;
        }
        conn.state = Connection.State.DRAINING;
        if (declineMessage == null) {
            conn.decoder.decline();
        } else {
            conn.decoder.decline(declineMessage);
        }
        // The decoder declines, it admits nothing: reading needs no room any more.
        conn.readOn();
        LoopIoHandler.afterNextIo(() -> {
            drainRead = true;
            if (conn.state == Connection.State.DRAINING && conn.terminal == null) {
                // Nothing declined yet: keep reading a while for the next request (class comment).
                declineWait = ctx.channel().eventLoop().schedule(() -> {
                    declineWait = null;
                    declineWaitOver = true;
                    check();
                }, conn.shared.config().closeLinger().toNanos(), TimeUnit.NANOSECONDS);
            }
            check();
        });
        check();
    }

    private void cancelDeclineWait() {
        if (declineWait != null) {
            declineWait.cancel(false);
            declineWait = null;
        }
    }

    /** Closes once nothing is owed (see the class comment). I/O thread. */
    void check() {
        Connection c = conn;
        if (c.tlsGate != null) {
            c.tlsGate.release(); // a held close_notify (and FIN) goes on once nothing is owed
        }
        if (c.closingOrClosed() || c.inFlight > 0) {
            return;
        }
        Connection.Terminal last = c.terminal;
        if (last != null) {
            c.terminal = null;
            c.answers.writeTerminal(last);
            beginClose();
            return;
        }
        if (c.decoder.hasBufferedBytes() && !closeRequested) {
            return; // frames held back, or the client is mid-frame (the slow-frame guard watches)
        }
        boolean done = switch (c.state) {
            // A declined request ends the wait through the terminal above; a client that
            // half-closed sends nothing more; a guard's close does not wait.
            case DRAINING -> drainRead && (declineWaitOver || c.decoder.inputClosed() || closeRequested);
            default -> closeRequested || c.decoder.inputClosed();
        };
        if (done) {
            beginClose();
        }
    }

    /** Flush, FIN, discard input until the client closes or the linger passes, then close. */
    void beginClose() {
        if (conn.closingOrClosed()) {
            return;
        }
        conn.state = Connection.State.CLOSING;
        cancelDeclineWait();
        conn.decoder.discard();
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) f -> {
            if (!f.channel().isActive()) {
                return;
            }
            if (conn.decoder.inputClosed()) {
                f.channel().close();
                return;
            }
            TlsClose.shutdownOutput((DuplexChannel) f.channel()).addListener((ChannelFutureListener) g -> {
                if (g.channel().isActive()) {
                    g.channel().config().setAutoRead(true); // read (and discard) until the client's FIN
                    lingerTimer = g.channel().eventLoop().schedule(lingerExpired,
                            conn.shared.config().closeLinger().toNanos(), TimeUnit.NANOSECONDS);
                }
            });
        });
    }

    private void lingerExpired() {
        lingerTimer = null;
        ctx.close();
    }
}
