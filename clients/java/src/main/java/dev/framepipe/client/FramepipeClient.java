package dev.framepipe.client;

import static dev.framepipe.protocol.FrameDescriptor.*;

import dev.framepipe.protocol.Kinds;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A pipelining framepipe client on one TCP connection: any number of requests may be in flight;
 * the server answers in order, and the client completes one future per request in that order.
 * Thread-safe: requests may be sent from any thread.
 *
 * <p>A future completes with the {@link Response}, error responses included (check
 * {@link Response#isError()}), or exceptionally with {@link ConnectionClosedException} when
 * the connection ends before the answer arrives.
 */
public final class FramepipeClient implements AutoCloseable {

    /** Largest response the client accepts (the largest answer to a 16 MiB request, plus slack). */
    public static final int MAX_RESPONSE_LENGTH = 64 * 1024 * 1024;

    private final Channel channel;
    private final EventLoopGroup ownGroup;
    private final AtomicLong nextId = new AtomicLong(1);
    /** Requests written and not yet answered, in order; guarded by {@code this}. */
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private boolean closed;

    private record Pending(long id, CompletableFuture<Response> future) {
    }

    private FramepipeClient(Channel channel, EventLoopGroup ownGroup) {
        this.channel = channel;
        this.ownGroup = ownGroup;
    }

    /** Connects with a private single-thread event loop (closed with the client). */
    public static FramepipeClient connect(String host, int port) throws InterruptedException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("framepipe-client", true),
                NioIoHandler.newFactory());
        try {
            return connect(host, port, group, group);
        } catch (RuntimeException | InterruptedException e) {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            throw e;
        }
    }

    /** Connects on a shared event loop group (not closed with the client). */
    public static FramepipeClient connect(String host, int port, EventLoopGroup group) throws InterruptedException {
        return connect(host, port, group, null);
    }

    /**
     * Connects over TLS ({@code tls} null: plain TCP), on {@code group} or, when it is null, on a
     * private event loop closed with the client. Returns once the handshake is done; a refused
     * handshake throws {@link ConnectionClosedException} with the TLS error as its cause.
     */
    public static FramepipeClient connect(String host, int port, ClientTls tls, EventLoopGroup group)
            throws InterruptedException, java.io.IOException {
        EventLoopGroup own = group == null ? new MultiThreadIoEventLoopGroup(1,
                new DefaultThreadFactory("framepipe-client", true), NioIoHandler.newFactory()) : null;
        try {
            io.netty.handler.ssl.SslContext ssl = tls == null ? null : tls.build();
            FramepipeClient client = connect(host, port, group == null ? own : group, own, ssl);
            if (ssl != null) {
                var handshake = client.channel.pipeline().get(io.netty.handler.ssl.SslHandler.class).handshakeFuture();
                handshake.await();
                if (!handshake.isSuccess()) {
                    client.close();
                    throw new ConnectionClosedException("TLS handshake with " + host + ":" + port + " failed",
                            handshake.cause());
                }
            }
            return client;
        } catch (RuntimeException | InterruptedException | java.io.IOException e) {
            if (own != null) {
                own.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            }
            throw e;
        }
    }

    private static FramepipeClient connect(String host, int port, EventLoopGroup group, EventLoopGroup own)
            throws InterruptedException {
        return connect(host, port, group, own, null);
    }

    private static FramepipeClient connect(String host, int port, EventLoopGroup group, EventLoopGroup own,
            io.netty.handler.ssl.SslContext ssl) throws InterruptedException {
        FramepipeClient[] holder = new FramepipeClient[1];
        Bootstrap b = new Bootstrap()
                .group(group)
                .channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (ssl != null) {
                            ch.pipeline().addLast("tls", ssl.newHandler(ch.alloc(), host, port));
                        }
                        ch.pipeline()
                                .addLast(new LengthFieldBasedFrameDecoder(ByteOrder.LITTLE_ENDIAN, MAX_RESPONSE_LENGTH,
                                        LENGTH_OFFSET, LENGTH_FIELD_SIZE, 0, 0, true))
                                .addLast(new SimpleChannelInboundHandler<ByteBuf>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
                                        holder[0].onFrame(frame);
                                    }

                                    @Override
                                    public void channelInactive(ChannelHandlerContext ctx) {
                                        holder[0].onClosed(null);
                                    }

                                    @Override
                                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                        holder[0].onClosed(cause);
                                        ctx.close();
                                    }
                                });
                    }
                });
        var connect = b.connect(host, port);
        Channel ch = connect.channel();
        holder[0] = new FramepipeClient(ch, own);
        connect.sync();
        return holder[0];
    }

    /** Sends a request with the next id; {@code payload} is copied. */
    public CompletableFuture<Response> send(int kind, int op, byte[] payload) {
        return send(kind, op, nextId.getAndIncrement(), payload);
    }

    /** Sends a request with an explicit id; {@code payload} is copied. */
    public CompletableFuture<Response> send(int kind, int op, long id, byte[] payload) {
        ByteBuf buf = channel.alloc().buffer(HEADER_LENGTH + payload.length);
        writeHeader(buf, payload.length, kind, op, id);
        buf.writeBytes(payload);
        return sendFrame(buf, id);
    }

    /**
     * Sends a complete, already-encoded frame (ownership passes to the client) whose answer will
     * carry {@code expectedId}. Meant for tools and tests that send unusual frames.
     */
    public CompletableFuture<Response> sendFrame(ByteBuf frame, long expectedId) {
        CompletableFuture<Response> future = new CompletableFuture<>();
        synchronized (this) {
            if (closed) {
                frame.release();
                future.completeExceptionally(new ConnectionClosedException("connection closed", null));
                return future;
            }
            pending.addLast(new Pending(expectedId, future));
            channel.writeAndFlush(frame, channel.voidPromise());
        }
        return future;
    }

    public CompletableFuture<Response> stats(float... values) {
        byte[] p = new byte[values.length * 4];
        java.nio.ByteBuffer.wrap(p).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(values);
        return send(Kinds.FLOATS, Kinds.OP_STATS, p);
    }

    public CompletableFuture<Response> scale(float a, float b, float... values) {
        byte[] p = new byte[8 + values.length * 4];
        var bb = java.nio.ByteBuffer.wrap(p).order(ByteOrder.LITTLE_ENDIAN);
        bb.putFloat(a).putFloat(b);
        bb.asFloatBuffer().put(values);
        return send(Kinds.FLOATS, Kinds.OP_SCALE, p);
    }

    public CompletableFuture<Response> upper(String text) {
        return send(Kinds.TEXT, Kinds.OP_UPPER, text.getBytes(StandardCharsets.UTF_8));
    }

    public CompletableFuture<Response> lower(String text) {
        return send(Kinds.TEXT, Kinds.OP_LOWER, text.getBytes(StandardCharsets.UTF_8));
    }

    public CompletableFuture<Response> count(String text) {
        return send(Kinds.TEXT, Kinds.OP_COUNT, text.getBytes(StandardCharsets.UTF_8));
    }

    public CompletableFuture<Response> ping(byte[] payload) {
        return send(Kinds.PING, Kinds.OP_PING, payload);
    }

    /** Requests sent and not yet answered. */
    public synchronized int inFlight() {
        return pending.size();
    }

    public boolean isOpen() {
        return channel.isActive();
    }

    public ByteBufAllocator alloc() {
        return channel.alloc();
    }

    /** Completes when the connection has closed (by either side). */
    public CompletableFuture<Void> closeFuture() {
        CompletableFuture<Void> f = new CompletableFuture<>();
        channel.closeFuture().addListener(x -> f.complete(null));
        return f;
    }

    private void onFrame(ByteBuf frame) {
        int start = frame.readerIndex();
        int kind = kind(frame, start);
        int op = op(frame, start);
        long id = id(frame, start);
        byte[] payload = ByteBufUtil.getBytes(frame, start + PAYLOAD_OFFSET, frame.readableBytes() - HEADER_LENGTH);
        Pending p;
        synchronized (this) {
            p = pending.pollFirst();
        }
        Response response = new Response(kind, op, id, payload);
        if (p == null) {
            onClosed(new IOException("unsolicited response " + response));
            channel.close();
        } else if (p.id != id) {
            p.future.completeExceptionally(new IOException("response out of order: expected id " + p.id + ", got " + response));
            onClosed(new IOException("response out of order"));
            channel.close();
        } else {
            p.future.complete(response);
        }
    }

    private void onClosed(Throwable cause) {
        ArrayDeque<Pending> failed;
        synchronized (this) {
            closed = true;
            failed = new ArrayDeque<>(pending);
            pending.clear();
        }
        for (Pending p : failed) {
            p.future.completeExceptionally(new ConnectionClosedException(
                    "connection closed before the answer to id " + p.id + " arrived", cause));
        }
    }

    /** Half-closes: no more requests from this side; answers still arrive. */
    public void shutdownOutput() {
        synchronized (this) {
            closed = true;
        }
        // Netty's shutdownOutput drops writes still queued, so it must follow the last flush.
        channel.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER)
                .addListener(f -> ((SocketChannel) channel).shutdownOutput());
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        if (ownGroup != null) {
            ownGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
