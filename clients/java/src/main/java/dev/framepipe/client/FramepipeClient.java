package dev.framepipe.client;

import static dev.framepipe.protocol.FrameDescriptor.HEADER_LENGTH;
import static dev.framepipe.protocol.FrameDescriptor.LENGTH_FIELD_SIZE;
import static dev.framepipe.protocol.FrameDescriptor.LENGTH_OFFSET;
import static dev.framepipe.protocol.FrameDescriptor.PAYLOAD_OFFSET;

import dev.framepipe.protocol.FrameDescriptor;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import java.io.IOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A pipelining framepipe client on one TCP (or TLS) connection: many requests may be in flight;
 * the server answers in order, and the client completes one future per request in that order.
 * Thread-safe. The contracts (threading, order, back-pressure, deadlines) are stated once in
 * the {@linkplain dev.framepipe.client package documentation}.
 *
 * <pre>{@code
 * try (FramepipeClient client = FramepipeClient.connect("127.0.0.1", 7070)) {
 *     Response.Stats s = client.stats(1, 2, 3).get().stats();
 *     String up = client.send(Request.upper("straße").withTimeout(Duration.ofSeconds(2))).get().text();
 * }
 * }</pre>
 *
 * <p>Three ways to send, by what happens when the client has no room (it already has
 * {@link ClientOptions#maxInFlight()} requests unanswered, or {@link ClientOptions#maxQueuedBytes()}
 * bytes the network has not taken):
 * <ul>
 *   <li>{@link #send(Request)} and the shortcuts ({@link #stats}, {@link #upper}, ...) wait for
 *       room, at most until the request's deadline;</li>
 *   <li>{@link #trySend(Request)} never waits: it returns null and sends nothing;</li>
 *   <li>{@link #whenReady()} completes when there is room, for callers that must not block.</li>
 * </ul>
 */
public final class FramepipeClient implements AutoCloseable {

    /** Largest response the client accepts (the largest answer to a 16 MiB request, plus slack). */
    public static final int MAX_RESPONSE_LENGTH = 64 * 1024 * 1024;

    /** How a request meets a full client. */
    private enum Mode {
        /** wait for room until the deadline */
        BLOCK,
        /** give up at once (null) */
        TRY,
        /** send regardless: the reconnecting client bounds its own requests */
        UNCHECKED
    }

    /** A request written (or handed to the channel) and not yet answered. */
    private static final class Pending {
        final long id;
        final CompletableFuture<Response> future;
        /** Cancelled when the answer arrives; set and read under the lock. */
        Future<?> timer;
        boolean answered;

        Pending(long id, CompletableFuture<Response> future) {
            this.id = id;
            this.future = future;
        }
    }

    private final String host;
    private final int port;
    private final ClientEventLoops loops;
    private final boolean ownsLoops;
    private final int maxInFlight;
    private final Duration defaultTimeout;
    private final AtomicLong nextId = new AtomicLong(1);
    private final CompletableFuture<Void> closeFuture = new CompletableFuture<>();
    /** Set once, before {@link #connect} returns the client to any caller. */
    private volatile Channel channel;

    /**
     * Guards everything below. Senders write under it, so the order of {@link #pending} is the
     * order of the frames on the wire; the I/O thread takes it to match an answer. Unlock/lock
     * gives the happens-before edges between them; nothing of the callers runs under it.
     */
    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled when room appears or the connection closes. */
    private final Condition room = lock.newCondition();
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    /** Copy of pending.size() for trySend's check before it copies a payload (a hint only). */
    private volatile int inFlightHint;
    private boolean closed;
    private CompletableFuture<Void> ready;
    private int blockedSenders;
    /** For the reconnecting client: run on the I/O thread when the connection becomes writable. */
    private volatile Runnable writableListener;

    private FramepipeClient(String host, int port, ClientEventLoops loops, boolean ownsLoops, int maxInFlight,
            Duration defaultTimeout) {
        this.host = host;
        this.port = port;
        this.loops = loops;
        this.ownsLoops = ownsLoops;
        this.maxInFlight = maxInFlight;
        this.defaultTimeout = defaultTimeout;
    }

    // ---- connecting ----

    /** Connects over plain TCP with {@link ClientOptions#defaults()}. */
    public static FramepipeClient connect(String host, int port) throws IOException, InterruptedException {
        return connect(host, port, ClientOptions.defaults());
    }

    /**
     * Connects, with TLS when {@code options} has it; returns once the connection (and the
     * handshake) is up.
     *
     * @throws ConnectException           the server cannot be reached (the message names host and port)
     * @throws ConnectionClosedException  the TLS handshake failed (its cause is the TLS error)
     * @throws IOException                the TLS files cannot be used
     */
    public static FramepipeClient connect(String host, int port, ClientOptions options)
            throws IOException, InterruptedException {
        ClientEventLoops shared = options.eventLoops();
        ClientEventLoops loops = shared != null ? shared : ClientEventLoops.single("framepipe-client");
        try {
            return open(host, port, options, loops, loops.group, shared == null, options.maxInFlight(),
                    options.requestTimeout());
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            if (shared == null) {
                loops.close();
            }
            throw e;
        }
    }

    /**
     * Opens a connection on {@code group} (one loop of {@code loops}, or all of them). The
     * reconnecting client passes one loop, an unbounded in-flight count and no deadline: it keeps
     * its own bounds and deadlines.
     */
    static FramepipeClient open(String host, int port, ClientOptions options, ClientEventLoops loops,
            EventLoopGroup group, boolean ownsLoops, int maxInFlight, Duration defaultTimeout)
            throws IOException, InterruptedException {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port must be 1-65535, not " + port);
        }
        ClientTls tls = options.tls();
        SslContext ssl = tls == null ? null : tls.sslContext();
        String verifiedName = tls != null && tls.serverName() != null ? tls.serverName() : host;
        int connectMillis = (int) Math.min(Integer.MAX_VALUE, Math.max(1, options.connectTimeout().toMillis()));
        int highWater = options.maxQueuedBytes();
        FramepipeClient client = new FramepipeClient(host, port, loops, ownsLoops, maxInFlight, defaultTimeout);
        Bootstrap b = new Bootstrap()
                .group(group)
                .channel(Transport.channelClass())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectMillis)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(highWater / 2, highWater))
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (ssl != null) {
                            SslHandler h = ssl.newHandler(ch.alloc(), verifiedName, port);
                            h.setHandshakeTimeoutMillis(connectMillis);
                            ch.pipeline().addLast("tls", h);
                        }
                        ch.pipeline()
                                .addLast(new LengthFieldBasedFrameDecoder(ByteOrder.LITTLE_ENDIAN, MAX_RESPONSE_LENGTH,
                                        LENGTH_OFFSET, LENGTH_FIELD_SIZE, 0, 0, true))
                                .addLast(client.new Handler());
                    }
                });
        ChannelFuture connect = b.connect(host, port);
        Channel ch = connect.channel();
        client.channel = ch;
        ch.closeFuture().addListener(f -> client.closeFuture.complete(null));
        try {
            if (!connect.await(connectMillis + 1000L)) {
                throw new ConnectException("cannot connect to " + host + ":" + port + ": timed out after "
                        + options.connectTimeout());
            }
            if (!connect.isSuccess()) {
                ConnectException e = new ConnectException("cannot connect to " + host + ":" + port + ": "
                        + reason(connect.cause(), options.connectTimeout()));
                e.initCause(connect.cause());
                throw e;
            }
            if (ssl != null) {
                var handshake = ch.pipeline().get(SslHandler.class).handshakeFuture();
                handshake.await();
                if (!handshake.isSuccess()) {
                    throw new ConnectionClosedException("TLS handshake with " + host + ":" + port + " failed: "
                            + handshake.cause().getMessage(), handshake.cause());
                }
            }
            return client;
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            ch.close();
            throw e;
        }
    }

    private static String reason(Throwable cause, Duration timeout) {
        if (cause instanceof ConnectTimeoutException) {
            return "timed out after " + timeout;
        }
        if (cause instanceof UnknownHostException) {
            return "unknown host";
        }
        String m = String.valueOf(cause.getMessage());
        // NIO says "Connection refused: /host:port"; epoll "finishConnect(..) failed with error(-111)"
        if (cause instanceof ConnectException && (m.contains("refused") || m.contains("(-111)"))) {
            return "connection refused";
        }
        return m;
    }

    // ---- sending ----

    /**
     * Sends a request, waiting for room first while the client is full (back-pressure), at most
     * until the request's deadline. The future completes with the answer, error answers included
     * ({@link Response#isError()}), or exceptionally with {@link RequestTimeoutException} (the
     * deadline passed, waiting or answered late), {@link ConnectionClosedException} (the
     * connection ended first), {@link IllegalStateException} (no room and the caller is one of
     * the client's I/O threads, which must not wait), or {@link InterruptedException} (the
     * calling thread was interrupted while waiting; its interrupt status is kept).
     */
    public CompletableFuture<Response> send(Request request) {
        return send(request.kind(), request.op(), request.payload(), null, request.timeout(), Mode.BLOCK);
    }

    /** {@code send(Request.of(kind, op, payload))}. */
    public CompletableFuture<Response> send(int kind, int op, byte[] payload) {
        return send(Request.of(kind, op, payload));
    }

    /**
     * Sends a request only if there is room now: never waits. Returns null (and sends nothing)
     * when the client is full; {@link #whenReady()} tells when to try again. Otherwise as
     * {@link #send(Request)}.
     */
    public CompletableFuture<Response> trySend(Request request) {
        return send(request.kind(), request.op(), request.payload(), null, request.timeout(), Mode.TRY);
    }

    /**
     * Sends {@code frame} exactly as given (any bytes: a frame with an unknown version, a wrong
     * length...) and expects one answer carrying {@code expectedId}. For tests and tools that
     * send unusual frames; waits for room like {@link #send(Request)}. The array is copied.
     */
    public CompletableFuture<Response> sendRaw(byte[] frame, long expectedId) {
        return send(0, 0, null, frame, null, Mode.BLOCK, expectedId);
    }

    /** For the reconnecting client: no room check, no deadline. */
    CompletableFuture<Response> sendUnchecked(Request request) {
        return send(request.kind(), request.op(), request.payload(), null, null, Mode.UNCHECKED);
    }

    public CompletableFuture<Response> stats(float... values) {
        return send(Request.stats(values));
    }

    public CompletableFuture<Response> scale(float a, float b, float... values) {
        return send(Request.scale(a, b, values));
    }

    public CompletableFuture<Response> upper(String text) {
        return send(Request.upper(text));
    }

    public CompletableFuture<Response> lower(String text) {
        return send(Request.lower(text));
    }

    public CompletableFuture<Response> count(String text) {
        return send(Request.count(text));
    }

    public CompletableFuture<Response> ping(byte[] payload) {
        return send(Request.ping(payload));
    }

    /**
     * Completes when a request can be sent without waiting (it may already be taken by another
     * thread by then), or exceptionally with {@link ConnectionClosedException} when the
     * connection has closed. Each call returns a new future.
     */
    public CompletableFuture<Void> whenReady() {
        lock.lock();
        try {
            if (closed) {
                return CompletableFuture.failedFuture(closedException());
            }
            if (hasRoom()) {
                return CompletableFuture.completedFuture(null);
            }
            if (ready == null) {
                ready = new CompletableFuture<>();
            }
            return ready.copy();
        } finally {
            lock.unlock();
        }
    }

    /** Whether a request could be sent now without waiting. */
    public boolean isReady() {
        lock.lock();
        try {
            return !closed && hasRoom();
        } finally {
            lock.unlock();
        }
    }

    private CompletableFuture<Response> send(int kind, int op, byte[] payload, byte[] raw, Duration timeout,
            Mode mode) {
        return send(kind, op, payload, raw, timeout, mode, 0);
    }

    private CompletableFuture<Response> send(int kind, int op, byte[] payload, byte[] raw, Duration timeout, Mode mode,
            long rawId) {
        long start = System.nanoTime();
        if (mode == Mode.TRY && channel.isActive() && !(inFlightHint < maxInFlight && channel.isWritable())) {
            return null; // full: not worth copying the payload to find out under the lock
        }
        Duration limit = timeout != null ? timeout : defaultTimeout;
        long limitNanos = limit == null ? Long.MAX_VALUE : saturatedNanos(limit);
        long id;
        ByteBuf frame;
        if (raw != null) {
            id = rawId;
            frame = channel.alloc().buffer(raw.length).writeBytes(raw);
        } else {
            id = nextId.getAndIncrement();
            frame = channel.alloc().buffer(HEADER_LENGTH + payload.length);
            FrameDescriptor.writeHeader(frame, payload.length, kind, op, id);
            frame.writeBytes(payload);
        }
        CompletableFuture<Response> future = new CompletableFuture<>();
        Throwable failure = null;
        boolean interrupted = false;
        lock.lock();
        try {
            while (true) {
                if (closed) {
                    failure = closedException();
                    break;
                }
                if (mode == Mode.UNCHECKED || hasRoom()) {
                    long left = limitNanos == Long.MAX_VALUE ? Long.MAX_VALUE
                            : limitNanos - (System.nanoTime() - start);
                    if (left <= 0) {
                        failure = notSent(limit);
                        break;
                    }
                    Pending p = new Pending(id, future);
                    if (left != Long.MAX_VALUE) {
                        try {
                            p.timer = channel.eventLoop().schedule(() -> expire(p, limit), left, TimeUnit.NANOSECONDS);
                        } catch (RejectedExecutionException stopped) { // shared loops closed under the client
                            failure = new ConnectionClosedException("the client's event loops are closed", stopped);
                            break;
                        }
                    }
                    pending.addLast(p);
                    inFlightHint = pending.size();
                    // Under the lock, so frames reach the wire in the order of `pending`. From the
                    // I/O thread this runs the pipeline at once; the handler defers what it would
                    // do under this lock (see Handler).
                    channel.writeAndFlush(frame, channel.voidPromise());
                    frame = null;
                    break;
                }
                if (mode == Mode.TRY) {
                    break;
                }
                if (loops.inEventLoop()) {
                    failure = new IllegalStateException("the client is full (" + pending.size()
                            + " requests in flight, " + queuedBytes() + " bytes queued) and this is one of its"
                            + " I/O threads, which must not wait: use trySend and whenReady there");
                    break;
                }
                long left = limitNanos - (System.nanoTime() - start);
                if (left <= 0) {
                    failure = notSent(limit);
                    break;
                }
                blockedSenders++;
                try {
                    room.awaitNanos(left);
                } catch (InterruptedException e) {
                    interrupted = true;
                    failure = e;
                    break;
                } finally {
                    blockedSenders--;
                }
            }
        } finally {
            lock.unlock();
        }
        if (frame != null) {
            frame.release();
            if (failure == null) {
                return null; // TRY without room
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (failure != null) {
            future.completeExceptionally(failure);
        }
        return future;
    }

    private RequestTimeoutException notSent(Duration limit) {
        return new RequestTimeoutException("not sent within " + limit + ": no room (" + maxInFlightText()
                + " or " + queuedBytes() + " bytes queued for " + host + ":" + port + ")", limit, false);
    }

    private String maxInFlightText() {
        return pending.size() + " of at most " + maxInFlight + " requests in flight";
    }

    /** On the I/O thread, as is the handler: `answered` needs no more than program order. */
    private void expire(Pending p, Duration limit) {
        if (!p.answered) {
            p.future.completeExceptionally(new RequestTimeoutException("no answer from " + host + ":" + port
                    + " within " + limit + " (id " + p.id + "); its answer will be dropped when it comes",
                    limit, true));
        }
    }

    /** Under the lock. */
    private boolean hasRoom() {
        return pending.size() < maxInFlight && channel.isWritable();
    }

    /** Under the lock: wakes waiting senders if there is room, and hands back the ready future to complete. */
    private CompletableFuture<Void> roomAppeared() {
        if (closed || !hasRoom()) {
            return null;
        }
        if (blockedSenders > 0) {
            room.signalAll();
        }
        CompletableFuture<Void> r = ready;
        ready = null;
        return r;
    }

    private ConnectionClosedException closedException() {
        // No cause: nothing was sent, so the server certainly did not run it (ReconnectingClient relies on this).
        return new ConnectionClosedException("connection to " + host + ":" + port + " is closed", null);
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE / 2;
        }
    }

    // ---- state ----

    /** Requests sent and not yet answered (those whose deadline passed included, until their answer comes). */
    public int inFlight() {
        lock.lock();
        try {
            return pending.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Bytes of requests the network has not taken yet (held by the client, bounded by
     * {@link ClientOptions#maxQueuedBytes()} plus one request).
     */
    public long queuedBytes() {
        ChannelOutboundBuffer out = channel.unsafe().outboundBuffer();
        return out == null ? 0 : out.totalPendingWriteBytes();
    }

    /** Whether the connection is open. */
    public boolean isOpen() {
        return channel.isActive();
    }

    boolean isWritable() {
        return channel.isWritable();
    }

    /** For the reconnecting client: {@code listener} runs on the I/O thread when the connection becomes writable. */
    void onWritable(Runnable listener) {
        this.writableListener = listener;
    }

    /** Completes when the connection has closed (by either side). */
    public CompletableFuture<Void> closeFuture() {
        return closeFuture.copy();
    }

    @Override
    public String toString() {
        return "FramepipeClient[" + host + ":" + port + (isOpen() ? "" : ", closed") + ", " + Transport.name() + "]";
    }

    // ---- answers ----

    /**
     * The pipeline's end. Events that arrive while the I/O thread itself holds the client's lock
     * (a request written from a callback runs the pipeline at once) are handled once it lets go,
     * so nothing of the callers ever runs under the lock.
     */
    private final class Handler extends SimpleChannelInboundHandler<ByteBuf> {

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
            onFrame(ctx, frame);
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (lock.isHeldByCurrentThread()) {
                ctx.executor().execute(() -> channelWritabilityChanged(ctx));
                return;
            }
            if (ctx.channel().isWritable()) {
                CompletableFuture<Void> r;
                lock.lock();
                try {
                    r = roomAppeared();
                } finally {
                    lock.unlock();
                }
                if (r != null) {
                    r.complete(null);
                }
                Runnable l = writableListener;
                if (l != null) {
                    l.run();
                }
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (lock.isHeldByCurrentThread()) {
                ctx.executor().execute(() -> channelInactive(ctx));
                return;
            }
            onClosed(null);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (lock.isHeldByCurrentThread()) {
                ctx.executor().execute(() -> exceptionCaught(ctx, cause));
                return;
            }
            onClosed(cause);
            ctx.close();
        }
    }

    private void onFrame(ChannelHandlerContext ctx, ByteBuf frame) {
        int start = frame.readerIndex();
        int kind = FrameDescriptor.kind(frame, start);
        int op = FrameDescriptor.op(frame, start);
        long id = FrameDescriptor.id(frame, start);
        byte[] payload = ByteBufUtil.getBytes(frame, start + PAYLOAD_OFFSET, frame.readableBytes() - HEADER_LENGTH);
        Response response = new Response(kind, op, id, payload);
        Pending p;
        CompletableFuture<Void> r;
        lock.lock();
        try {
            p = pending.pollFirst();
            inFlightHint = pending.size();
            if (p != null) {
                p.answered = true;
                if (p.timer != null) {
                    p.timer.cancel(false);
                }
            }
            r = roomAppeared();
        } finally {
            lock.unlock();
        }
        if (p == null) {
            onClosed(new IOException("unsolicited response " + response));
            ctx.close();
        } else if (p.id != id) {
            p.future.completeExceptionally(new IOException("response out of order: expected id " + p.id
                    + ", got " + response));
            onClosed(new IOException("response out of order"));
            ctx.close();
        } else {
            // a no-op when the deadline passed (or the caller cancelled): the answer is dropped
            p.future.complete(response);
        }
        if (r != null) {
            r.complete(null);
        }
    }

    private void onClosed(Throwable cause) {
        List<Pending> failed;
        CompletableFuture<Void> r;
        lock.lock();
        try {
            closed = true;
            failed = List.copyOf(pending);
            pending.clear();
            inFlightHint = 0;
            for (Pending p : failed) {
                p.answered = true;
                if (p.timer != null) {
                    p.timer.cancel(false);
                }
            }
            room.signalAll();
            r = ready;
            ready = null;
        } finally {
            lock.unlock();
        }
        for (Pending p : failed) {
            p.future.completeExceptionally(new ConnectionClosedException("connection to " + host + ":" + port
                    + " closed before the answer to id " + p.id + " arrived", cause));
        }
        if (r != null) {
            r.completeExceptionally(closedException());
        }
    }

    // ---- closing ----

    /**
     * Half-closes: no more requests from this side (later sends fail with
     * {@link ConnectionClosedException}); answers to those already sent still arrive, then the
     * server closes.
     */
    public void shutdownOutput() {
        CompletableFuture<Void> r;
        lock.lock();
        try {
            closed = true;
            room.signalAll();
            r = ready;
            ready = null;
        } finally {
            lock.unlock();
        }
        if (r != null) {
            r.completeExceptionally(closedException());
        }
        // Netty's shutdownOutput drops writes still queued, so it must follow the last flush.
        channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> ((DuplexChannel) channel).shutdownOutput());
    }

    /**
     * Closes the connection; requests not yet answered fail with {@link ConnectionClosedException}.
     * Waits for the close unless called on one of the client's I/O threads.
     */
    @Override
    public void close() {
        var closing = channel.close();
        if (!loops.inEventLoop()) {
            closing.syncUninterruptibly();
        }
        if (ownsLoops) {
            loops.close();
        }
    }
}
