package dev.framepipe.server;

import dev.framepipe.pipeline.LaneCounters;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;

/**
 * Counts bytes read from a frame socket (once per read, not per frame). One instance per I/O
 * thread, shared by that thread's connections, counting into that thread's counters. Inbound
 * only, so answers written per frame do not pass through it; {@link ConnectionHandler} counts
 * the bytes it writes.
 */
@ChannelHandler.Sharable
final class TrafficCounter extends ChannelInboundHandlerAdapter {

    private final LaneCounters counters;

    TrafficCounter(LaneCounters counters) {
        this.counters = counters;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf buf) {
            counters.bytesIn(buf.readableBytes());
        }
        ctx.fireChannelRead(msg);
    }
}
