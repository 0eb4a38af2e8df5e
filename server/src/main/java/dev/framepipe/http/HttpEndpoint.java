package dev.framepipe.http;

import dev.framepipe.config.FramepipeConfig;
import dev.framepipe.config.FramepipeConfig.HttpSettings;
import dev.framepipe.metrics.ConnectionErrors;
import dev.framepipe.metrics.RefusalMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpContentCompressor;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * The HTTP port: {@code /metrics}, {@code /health/live}, {@code /health/ready}. It runs on its
 * own single thread, so a slow scrape never delays frames. Its limits ({@code http-*} settings)
 * keep any client from holding it, or the descriptors the frame port needs: at most
 * {@code http-max-connections} open (the next is closed at once), and each connection bounded
 * in time and bytes by an {@link HttpConnectionGuard}.
 */
public final class HttpEndpoint {

    private static final System.Logger LOG = System.getLogger(HttpEndpoint.class.getName());

    /** No route takes a body; this only bounds what a client can make the aggregator buffer. */
    static final int MAX_BODY_BYTES = 8 * 1024;

    private final String bindAddress;
    private final int port;
    private final HttpSettings limits;
    private final Duration closeLinger;
    private final PrometheusMeterRegistry registry;
    private final BooleanSupplier ready;
    private final RefusalMetrics refusals;
    private final ConnectionErrors errors;
    private final AtomicInteger open = new AtomicInteger();
    /**
     * Every open connection, closed by {@link #stop()} before the event loop ends: a loop that
     * shuts down closes its sockets without running their pipelines' close events, so buffers a
     * half-read request holds would never be released.
     */
    private final ChannelGroup connections = new DefaultChannelGroup("framepipe-http", GlobalEventExecutor.INSTANCE);
    private MultiThreadIoEventLoopGroup group;
    private Channel channel;
    private Function<ByteBufAllocator, ChannelHandler> tls;

    public HttpEndpoint(FramepipeConfig config, PrometheusMeterRegistry registry, BooleanSupplier ready,
            RefusalMetrics refusals, ConnectionErrors errors) {
        this.bindAddress = config.bindAddress();
        this.port = config.httpPort();
        this.limits = config.http();
        this.closeLinger = config.closeLinger();
        this.registry = registry;
        this.ready = ready;
        this.refusals = refusals;
        this.errors = errors;
    }

    /** Speaks TLS: each connection gets a handler from {@code handlers} (call before {@link #start()}). */
    public void useTls(Function<ByteBufAllocator, ChannelHandler> handlers) {
        this.tls = handlers;
    }

    public void start() throws InterruptedException {
        group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("framepipe-http", true),
                NioIoHandler.newFactory());
        HttpRoutes routes = new HttpRoutes(registry, ready);
        ErrorCounter errorCounter = new ErrorCounter(errors);
        HttpDecoderConfig decoding = new HttpDecoderConfig()
                .setMaxInitialLineLength(limits.maxRequestLine())
                .setMaxHeaderSize(limits.maxHeaderBytes())
                .setMaxChunkSize(8192);
        channel = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        int now = open.incrementAndGet();
                        ch.closeFuture().addListener(f -> open.decrementAndGet());
                        connections.add(ch); // removed by the group itself when closed
                        if (now > limits.maxConnections()) {
                            // Closed at once, as the frame port does: an answer (503) would have
                            // to wait for the request, holding the descriptor the cap is about.
                            refusals.refused(RefusalMetrics.Reason.HTTP_MAX_CONNECTIONS);
                            ch.close();
                            return;
                        }
                        HttpConnectionGuard guard = new HttpConnectionGuard(limits, closeLinger, refusals);
                        if (tls != null) {
                            ch.pipeline().addLast("tls", tls.apply(ch.alloc()));
                        }
                        ch.pipeline()
                                .addLast("bytes", guard.byteWatcher())
                                .addLast("codec", new HttpServerCodec(decoding))
                                .addLast("guard", guard)
                                .addLast("keep-alive", new HttpServerKeepAliveHandler())
                                .addLast("compressor", new HttpContentCompressor())
                                .addLast("aggregator", new BoundedAggregator(guard))
                                .addLast("routes", routes)
                                .addLast("errors", errorCounter);
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
        connections.close().await(5, TimeUnit.SECONDS);
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        }
    }

    /** The aggregator, with a body over its bound answered by the guard (413, counted, closed). */
    private static final class BoundedAggregator extends HttpObjectAggregator {
        private final HttpConnectionGuard guard;

        BoundedAggregator(HttpConnectionGuard guard) {
            super(MAX_BODY_BYTES);
            this.guard = guard;
        }

        @Override
        protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
            guard.bodyTooLarge(); // the aggregator releases the message
        }
    }

    /** Last in the pipeline: every exception of a connection ends here, counted (see {@link ConnectionErrors}). */
    @ChannelHandler.Sharable
    private static final class ErrorCounter extends ChannelInboundHandlerAdapter {
        private final ConnectionErrors errors;

        ErrorCounter(ConnectionErrors errors) {
            this.errors = errors;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            HttpConnectionGuard guard = ctx.pipeline().get(HttpConnectionGuard.class);
            if (guard != null && guard.closing()) {
                // The aftermath of a close already decided and counted (a refusal, a timeout, the
                // client leaving): the aggregator's "closed while aggregating", a reset during the linger.
                LOG.log(System.Logger.Level.DEBUG, () -> "http connection " + ctx.channel() + " closing: " + cause);
            } else {
                errors.caught(ConnectionErrors.Port.HTTP, ctx.channel(), cause);
            }
            ctx.close();
        }
    }
}
