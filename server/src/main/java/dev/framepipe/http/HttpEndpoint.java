package dev.framepipe.http;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpContentCompressor;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The HTTP port: {@code /metrics}, {@code /health/live}, {@code /health/ready}. It runs on its
 * own single thread, so a slow scrape never delays frames.
 */
public final class HttpEndpoint {

    private final String bindAddress;
    private final int port;
    private final PrometheusMeterRegistry registry;
    private final BooleanSupplier ready;
    private MultiThreadIoEventLoopGroup group;
    private Channel channel;
    private java.util.function.Function<io.netty.buffer.ByteBufAllocator, io.netty.channel.ChannelHandler> tls;

    public HttpEndpoint(String bindAddress, int port, PrometheusMeterRegistry registry, BooleanSupplier ready) {
        this.bindAddress = bindAddress;
        this.port = port;
        this.registry = registry;
        this.ready = ready;
    }

    /** Speaks TLS: each connection gets a handler from {@code handlers} (call before {@link #start()}). */
    public void useTls(java.util.function.Function<io.netty.buffer.ByteBufAllocator, io.netty.channel.ChannelHandler> handlers) {
        this.tls = handlers;
    }

    public void start() throws InterruptedException {
        group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("framepipe-http", true),
                NioIoHandler.newFactory());
        HttpRoutes routes = new HttpRoutes(registry, ready);
        channel = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast("tls", tls.apply(ch.alloc()));
                        }
                        ch.pipeline()
                                .addLast(new HttpServerCodec(4096, 8192, 8192))
                                .addLast(new HttpServerKeepAliveHandler())
                                .addLast(new HttpContentCompressor())
                                .addLast(new HttpObjectAggregator(64 * 1024))
                                .addLast(routes);
                    }
                })
                .bind(bindAddress, port).sync().channel();
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    public void stop() throws InterruptedException {
        if (channel != null) {
            channel.close().sync();
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        }
    }
}
