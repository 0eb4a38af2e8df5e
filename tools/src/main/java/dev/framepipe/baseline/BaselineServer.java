package dev.framepipe.baseline;

import static dev.framepipe.protocol.FrameDescriptor.*;

import dev.framepipe.config.FramepipeConfig.Transport;
import dev.framepipe.codec.DecodeFailure;
import dev.framepipe.codec.FrameDecoder;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.protocol.Ops;
import dev.framepipe.server.NettyTransport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The transport's physical limit on this machine, for comparison: a minimal Netty server that
 * decodes the same frames the same way (zero-copy slices) and answers each, on the I/O thread,
 * with an answer of the size the service would give (echoing the request's own bytes where the
 * service answers in place) but computes nothing: no ring, no workers, no kernels, no metrics.
 */
public final class BaselineServer implements AutoCloseable {

    private final MultiThreadIoEventLoopGroup group;
    private final Channel channel;

    public BaselineServer(String bindAddress, int port, int ioThreads, Transport transport) throws InterruptedException {
        NettyTransport t = NettyTransport.select(transport);
        group = new MultiThreadIoEventLoopGroup(ioThreads, new DefaultThreadFactory("baseline-io", true),
                t.ioHandlerFactory());
        channel = new ServerBootstrap()
                .group(group)
                .channel(t.serverChannel())
                .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new FrameDecoder(DEFAULT_MAX_LENGTH, () -> true));
                        ch.pipeline().addLast(new Answerer());
                    }
                })
                .bind(bindAddress, port).sync().channel();
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    @Override
    public void close() throws InterruptedException {
        channel.close().sync();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
    }

    /** Answers each frame at once, flushing once per read. */
    private static final class Answerer extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof DecodeFailure) {
                ctx.close();
                return;
            }
            ByteBuf frame = (ByteBuf) msg;
            int at = frame.readerIndex();
            int kind = kind(frame, at);
            int op = op(frame, at);
            long id = id(frame, at);
            int fixed = kind == Kinds.FLOATS && op == Ops.STATS ? STATS_RESPONSE_LENGTH
                    : kind == Kinds.TEXT && op == Ops.COUNT ? COUNT_RESPONSE_LENGTH : -1;
            if (fixed >= 0) {
                // Over the request's own memory when it has room (no allocation, as in the service).
                ByteBuf answer;
                int start;
                if (frame.readableBytes() >= HEADER_LENGTH + fixed) {
                    answer = frame;
                    start = at;
                } else {
                    frame.release();
                    answer = ctx.alloc().directBuffer(HEADER_LENGTH + fixed);
                    start = 0;
                }
                putHeader(answer, start, fixed, kind | RESPONSE_BIT, op, id);
                answer.setZero(start + HEADER_LENGTH, fixed);
                answer.setIndex(start, start + HEADER_LENGTH + fixed);
                ctx.write(answer, ctx.voidPromise());
            } else if (kind == Kinds.FLOATS && op == Ops.SCALE) {
                int values = frame.readableBytes() - HEADER_LENGTH - SCALE_VALUES_OFFSET;
                putHeader(frame, at + SCALE_VALUES_OFFSET, values, kind | RESPONSE_BIT, op, id);
                frame.readerIndex(at + SCALE_VALUES_OFFSET);
                ctx.write(frame, ctx.voidPromise());
            } else {
                frame.setByte(at + KIND_OFFSET, kind | RESPONSE_BIT);
                ctx.write(frame, ctx.voidPromise());
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
