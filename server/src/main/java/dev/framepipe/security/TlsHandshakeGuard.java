package dev.framepipe.security;

import dev.framepipe.metrics.ConnectionErrors;
import dev.framepipe.logging.LogFields;
import dev.framepipe.metrics.RefusalMetrics;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;

/**
 * Sits right after the SslHandler: counts failed handshakes (no client certificate, one from
 * another CA, a plain-TCP client, a timeout) as {@code tls_handshake} refusals, and keeps their
 * exceptions from being counted a second time, as connection errors: a stranger failing to
 * authenticate is expected traffic, not a server fault. The SslHandler closes such a connection
 * itself.
 */
@ChannelHandler.Sharable
public final class TlsHandshakeGuard extends ChannelInboundHandlerAdapter {

    private static final System.Logger LOG = System.getLogger(TlsHandshakeGuard.class.getName());

    private final RefusalMetrics refusals;

    public TlsHandshakeGuard(RefusalMetrics refusals) {
        this.refusals = refusals;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent done && !done.isSuccess()) {
            refusals.refused(RefusalMetrics.Reason.TLS_HANDSHAKE);
            if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
                try (var fields = LogFields.connection(ctx.channel())) {
                    LOG.log(System.Logger.Level.DEBUG, "TLS handshake with " + ctx.channel().remoteAddress() + " failed: "
                            + done.cause());
                }
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (ConnectionErrors.classify(cause) == ConnectionErrors.Cause.TLS && !handshakeSucceeded(ctx)) {
            // Counted once, as a tls_handshake refusal (the event above). A TLS error after the
            // handshake goes on to the connection handler, which counts it as a connection error.
            if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
                try (var fields = LogFields.connection(ctx.channel())) {
                    LOG.log(System.Logger.Level.DEBUG, "TLS error on " + ctx.channel() + ": " + cause);
                }
            }
            ctx.close();
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    private static boolean handshakeSucceeded(ChannelHandlerContext ctx) {
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        return ssl != null && ssl.handshakeFuture().isSuccess();
    }
}
