package dev.framepipe.http;

import dev.framepipe.config.FramepipeConfig.HttpSettings;
import dev.framepipe.metrics.RefusalMetrics;
import dev.framepipe.metrics.RefusalMetrics.Reason;
import dev.framepipe.security.TlsClose;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * One HTTP connection's limits, between the codec and the rest of the pipeline. Everything runs
 * on the connection's event loop, so its state is plain.
 *
 * <p><b>Timers.</b> While a request is arriving, its {@code http-header-timeout} runs from its
 * first byte (the first request's from the connection opening): a request not complete by then
 * gets 408 and the connection closes. Between requests, {@code http-idle-timeout} runs from the
 * last request's end or the last answer's write, whichever came later: a connection that starts
 * no request, or does not read an answer that no longer fits in its socket, is closed. The start
 * of a request is seen by {@link #byteWatcher()}, before the codec: any bytes while no request
 * is arriving. Bytes of a pipelined request that arrive in the same read as the end of the one
 * before stay unseen until more bytes come: such a partial request then lives until the idle
 * timeout, exactly as long as an idle connection may, so it gains a client nothing.
 *
 * <p><b>One request at a time.</b> A complete request goes on to the routes only once the answer
 * to the one before has been written, and reading stops while requests wait here: a client that
 * pipelines requests without reading the answers holds at most one answer in memory and the
 * requests the codec decoded from its last read (the codec refuses more than 128 unanswered).
 *
 * <p><b>Refusals.</b> A request line over {@code http-max-request-line} gets 414, headers over
 * {@code http-max-header-bytes} 431, a body over the aggregator's bound 413, anything the codec
 * cannot parse 400 (after the answers to the requests before it, in order). Then the server
 * closes the way the frame port does: the answer, a FIN, and reading (and discarding) until the
 * client closes or {@code close-linger} passes, so the client reads the answer instead of a
 * reset caused by the bytes it was still sending. Each refusal and timeout is counted under its
 * reason in {@code pipeline_connections_refused_total}.
 */
final class HttpConnectionGuard extends ChannelDuplexHandler {

    private static final System.Logger LOG = System.getLogger(HttpConnectionGuard.class.getName());

    private final HttpSettings limits;
    private final long lingerNanos;
    private final RefusalMetrics refusals;
    /** Decoded messages not yet passed on, in order; each owned here until passed on or released. */
    private final ArrayDeque<Object> held = new ArrayDeque<>();

    private ChannelHandlerContext ctx;
    /** A request is arriving (or the connection's first is awaited): the header timer runs. */
    private boolean reading;
    /** A complete request was passed on and its answer is not written yet. */
    private boolean answering;
    /** The response being written is informational (100 Continue), not the request's answer. */
    private boolean informational;
    private boolean closing;
    private boolean dispatching;
    private ScheduledFuture<?> timer;

    HttpConnectionGuard(HttpSettings limits, Duration closeLinger, RefusalMetrics refusals) {
        this.limits = limits;
        this.lingerNanos = closeLinger.toNanos();
        this.refusals = refusals;
    }

    /** The handler to place before the codec: it tells this guard when request bytes arrive. */
    ChannelInboundHandlerAdapter byteWatcher() {
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext c, Object msg) {
                if (!reading && !closing && msg instanceof ByteBuf b && b.isReadable()) {
                    startReading();
                }
                c.fireChannelRead(msg);
            }
        };
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        startReading();
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closing = true;
        cancelTimer();
        releaseHeld();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelTimer();
        releaseHeld();
    }

    /** The server has decided to close this connection, or it is closed. */
    boolean closing() {
        return closing;
    }

    // ---- requests in ----

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closing) {
            ReferenceCountUtil.release(msg);
            return;
        }
        Throwable failure = msg instanceof HttpObject o && o.decoderResult().isFailure() ? o.decoderResult().cause() : null;
        if (failure instanceof PrematureChannelClosureException) {
            ReferenceCountUtil.release(msg); // the client closed mid-request: nobody to answer
            return;
        }
        if (failure != null || msg instanceof LastHttpContent) {
            reading = false; // the request is complete (or cannot become one)
            armTimer(limits.idleTimeout().toNanos());
        }
        held.add(msg);
        dispatch();
    }

    /** Passes held messages on in order, up to and including the end of one request. */
    private void dispatch() {
        if (dispatching) {
            return; // an answer written synchronously re-entered: the loop below goes on
        }
        dispatching = true;
        try {
            Object msg;
            while (!answering && !closing && (msg = held.poll()) != null) {
                if (msg instanceof HttpObject o && o.decoderResult().isFailure()) {
                    Throwable cause = o.decoderResult().cause();
                    ReferenceCountUtil.release(msg);
                    refuse(cause);
                    return;
                }
                if (msg instanceof LastHttpContent) {
                    answering = true;
                }
                ctx.fireChannelRead(msg);
            }
        } finally {
            dispatching = false;
        }
        if (!closing) {
            // Waiting requests: read no more until they are answered (bounds what a client that
            // does not read its answers can make the server hold).
            ctx.channel().config().setAutoRead(held.isEmpty());
        }
    }

    private void refuse(Throwable cause) {
        HttpResponseStatus status;
        Reason reason = Reason.HTTP_REQUEST_TOO_LARGE;
        if (cause instanceof TooLongHttpLineException) {
            status = HttpResponseStatus.REQUEST_URI_TOO_LONG;
        } else if (cause instanceof TooLongHttpHeaderException) {
            status = HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
        } else if (cause instanceof TooLongFrameException) {
            status = HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE;
        } else {
            status = HttpResponseStatus.BAD_REQUEST;
            reason = Reason.HTTP_BAD_REQUEST;
        }
        LOG.log(System.Logger.Level.DEBUG, () -> "http connection " + ctx.channel() + ": " + status + " (" + cause + ")");
        refuse(status, reason);
    }

    /** A body over the aggregator's bound (called by the aggregator, after this handler). */
    void bodyTooLarge() {
        if (!closing) {
            refuse(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, Reason.HTTP_REQUEST_TOO_LARGE);
        }
    }

    /** Counts the refusal, answers {@code status} and closes: FIN, then discard until the client's FIN or the linger. */
    private void refuse(HttpResponseStatus status, Reason reason) {
        refusals.refused(reason);
        closing = true;
        releaseHeld();
        cancelTimer();
        timer = ctx.executor().schedule(() -> {
            ctx.close();
        }, lingerNanos, TimeUnit.NANOSECONDS);
        // Read on and discard: the codec skips what follows a malformed request, this handler drops the rest.
        ctx.channel().config().setAutoRead(true);
        ByteBuf body = ByteBufUtil.writeUtf8(ctx.alloc(), status.reasonPhrase().toLowerCase(Locale.ROOT) + "\n");
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        HttpUtil.setContentLength(res, body.readableBytes());
        ctx.writeAndFlush(res).addListener((ChannelFutureListener) f -> {
            if (f.channel().isActive()) {
                TlsClose.shutdownOutput((DuplexChannel) f.channel());
            }
        });
    }

    // ---- answers out ----

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse r) {
            informational = r.status().codeClass() == HttpStatusClass.INFORMATIONAL;
        }
        if (msg instanceof LastHttpContent && !informational && !closing) {
            ChannelPromise p = promise.unvoid();
            p.addListener(f -> answered());
            ctx.write(msg, p);
            return;
        }
        ctx.write(msg, promise);
    }

    /** The answer is written (into the socket): the next request may go on. Event loop. */
    private void answered() {
        if (closing) {
            return;
        }
        answering = false;
        if (!reading) {
            armTimer(limits.idleTimeout().toNanos());
        }
        dispatch();
    }

    // ---- timers ----

    private void startReading() {
        reading = true;
        armTimer(limits.headerTimeout().toNanos());
    }

    private void armTimer(long nanos) {
        cancelTimer();
        timer = ctx.executor().schedule(this::timedOut, nanos, TimeUnit.NANOSECONDS);
    }

    private void timedOut() {
        timer = null;
        if (closing) {
            return;
        }
        if (reading) {
            LOG.log(System.Logger.Level.DEBUG, () -> "http connection " + ctx.channel() + ": request not complete within "
                    + limits.headerTimeout());
            refuse(HttpResponseStatus.REQUEST_TIMEOUT, Reason.HTTP_HEADER_TIMEOUT);
        } else {
            LOG.log(System.Logger.Level.DEBUG, () -> "closing idle http connection " + ctx.channel());
            refusals.refused(Reason.HTTP_IDLE_TIMEOUT);
            closing = true;
            releaseHeld();
            ctx.close();
        }
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void releaseHeld() {
        Object msg;
        while ((msg = held.poll()) != null) {
            ReferenceCountUtil.release(msg);
        }
    }
}
