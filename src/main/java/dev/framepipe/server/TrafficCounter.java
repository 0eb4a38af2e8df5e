package dev.framepipe.server;

import dev.framepipe.metrics.FrameMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;

/** Counts bytes read from and handed to a frame socket. Stateless, so one instance serves all. */
@ChannelHandler.Sharable
final class TrafficCounter extends ChannelDuplexHandler {

    private final FrameMetrics metrics;

    TrafficCounter(FrameMetrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf buf) {
            metrics.bytesReceived(buf.readableBytes());
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof ByteBuf buf) {
            metrics.bytesSent(buf.readableBytes());
        }
        ctx.write(msg, promise);
    }
}
