package dev.framepipe.security;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;

/**
 * The server's half-close, with or without TLS. Over TLS the FIN must follow a close_notify:
 * a peer that sees a bare FIN cannot tell a clean end from a truncation attack, and some TLS
 * stacks then discard what they have decrypted but not yet handed up. {@link
 * SslHandler#closeOutbound()} sends close_notify after every record already written (so no
 * answer is cut off) without closing the socket; the input side stays open, so the linger that
 * follows still reads (and the SslHandler decrypts and discards) what the client sends. Both
 * ports close this way.
 */
public final class TlsClose {

    private TlsClose() {
    }

    public static ChannelFuture shutdownOutput(DuplexChannel channel) {
        SslHandler ssl = channel.pipeline().get(SslHandler.class);
        if (ssl == null) {
            return channel.shutdownOutput();
        }
        ChannelPromise done = channel.newPromise();
        ssl.closeOutbound().addListener((ChannelFutureListener) f -> {
            if (!channel.isActive()) {
                done.trySuccess();
                return;
            }
            channel.shutdownOutput().addListener((ChannelFutureListener) g -> done.trySuccess());
        });
        return done;
    }
}
