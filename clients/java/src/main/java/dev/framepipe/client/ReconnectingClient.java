package dev.framepipe.client;

import dev.framepipe.protocol.ErrorCode;
import dev.framepipe.protocol.Kinds;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A pipelining client that outlives its connections: when the server retires a connection
 * ({@code max-connection-age}) or drains, this client opens a new one and sends again the
 * requests the server did not run, exactly once each, before any request made later. Every
 * request's future completes once, in the order the requests were made, as with
 * {@link FramepipeClient}. Thread-safe.
 *
 * <p>Which requests are sent again follows from the protocol's close rules (PROTOCOL.md,
 * "Graceful stop" and "Errors"): the server answers every frame it has decoded before it
 * shuts down its sending side, so
 * <ul>
 *   <li>a request answered SHUTTING_DOWN was not run, nor was any request sent after it on
 *       that connection;</li>
 *   <li>when the connection ends cleanly (the server's FIN, no error), every request still
 *       unanswered was not run: it arrived after the server had stopped decoding.</li>
 * </ul>
 * Those are sent again on the next connection, in their original order. When a connection
 * fails abruptly (a reset, a malformed answer) whether the unanswered requests ran is
 * unknown, so their futures fail with {@link ConnectionClosedException} instead of being
 * guessed at; later requests go to a new connection.
 *
 * <p>Reconnecting backs off (doubling from {@link Options#minBackoff()} to
 * {@link Options#maxBackoff()}) while connections end without answering anything, so a
 * server that refuses or keeps declining is not hammered; a request declined
 * {@link Options#maxAttempts()} times completes with the last SHUTTING_DOWN answer.
 */
public final class ReconnectingClient implements AutoCloseable {

    /**
     * @param maxAttempts        sends per request before its SHUTTING_DOWN answer is final
     * @param maxConnectFailures consecutive failed connection attempts before waiting requests fail
     * @param minBackoff         first delay before reconnecting after a connection that answered nothing
     * @param maxBackoff         longest such delay
     */
    public record Options(int maxAttempts, int maxConnectFailures, Duration minBackoff, Duration maxBackoff) {

        public static Options defaults() {
            return new Options(10, 20, Duration.ofMillis(10), Duration.ofSeconds(2));
        }
    }

    private enum Outcome { PENDING, ANSWERED, RESEND, FAILED }

    /** One request as the caller made it; it may travel on several connections. */
    private static final class Request {
        final int kind;
        final int op;
        final byte[] payload;
        final CompletableFuture<Response> future = new CompletableFuture<>();
        int attempts;
        Outcome outcome;
        Response declined;

        Request(int kind, int op, byte[] payload) {
            this.kind = kind;
            this.op = op;
            this.payload = payload;
        }
    }

    /** One connection and the requests sent on it and not yet settled, in order. */
    private static final class Session {
        final FramepipeClient client;
        final ArrayDeque<Request> sent = new ArrayDeque<>();
        int unresolved;
        int answered;
        boolean usable = true;

        Session(FramepipeClient client) {
            this.client = client;
        }
    }

    private final String host;
    private final int port;
    private final Options options;
    /**
     * One event loop for every connection this client opens: answers from an old connection
     * and from the one that replaces it are handled by the same thread, one after the other,
     * which is what keeps futures completing in request order across a reconnect.
     */
    private final EventLoopGroup group;
    private final Object lock = new Object();
    private final AtomicLong connections = new AtomicLong();
    private final AtomicLong resent = new AtomicLong();

    // guarded by lock
    private Session session;
    private final ArrayDeque<Request> waiting = new ArrayDeque<>();
    private boolean connecting;
    private boolean closed;
    private int emptySessions;
    private int connectFailures;
    /** Futures to complete once the lock is released (callers' callbacks never run under it). */
    private final List<Runnable> deferred = new ArrayList<>();
    private int outstanding;

    private ReconnectingClient(String host, int port, Options options, EventLoopGroup group) {
        this.host = host;
        this.port = port;
        this.options = options;
        this.group = group;
    }

    /** Connects (failing at once when the server cannot be reached) with default options. */
    public static ReconnectingClient connect(String host, int port) throws InterruptedException {
        return connect(host, port, Options.defaults());
    }

    public static ReconnectingClient connect(String host, int port, Options options) throws InterruptedException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
                new DefaultThreadFactory("framepipe-reconnecting-client", true), NioIoHandler.newFactory());
        ReconnectingClient c = new ReconnectingClient(host, port, options, group);
        try {
            FramepipeClient first = FramepipeClient.connect(host, port, group);
            c.onConnected(first);
            return c;
        } catch (RuntimeException | InterruptedException e) {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            throw e;
        }
    }

    /** Sends a request; {@code payload} is kept (not copied) until the request is answered. */
    public CompletableFuture<Response> send(int kind, int op, byte[] payload) {
        Request r = new Request(kind, op, payload);
        List<Runnable> run;
        synchronized (lock) {
            if (closed) {
                r.future.completeExceptionally(new ConnectionClosedException("client closed", null));
                return r.future;
            }
            outstanding++;
            if (session != null && session.usable) {
                sendOn(session, r);
            } else {
                waiting.addLast(r);
                startConnect();
            }
            run = takeDeferred();
        }
        run.forEach(Runnable::run);
        return r.future;
    }

    public CompletableFuture<Response> stats(float... values) {
        byte[] p = new byte[values.length * 4];
        ByteBuffer.wrap(p).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(values);
        return send(Kinds.FLOATS, Kinds.OP_STATS, p);
    }

    public CompletableFuture<Response> scale(float a, float b, float... values) {
        byte[] p = new byte[8 + values.length * 4];
        ByteBuffer bb = ByteBuffer.wrap(p).order(ByteOrder.LITTLE_ENDIAN);
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

    /** Requests made and not yet completed. */
    public int inFlight() {
        synchronized (lock) {
            return outstanding;
        }
    }

    /** Connections opened so far, the first included. */
    public long connections() {
        return connections.get();
    }

    /** Requests sent again because the server had not run them. */
    public long resent() {
        return resent.get();
    }

    // ---- connections ----

    /** Under the lock. Sends {@code r} on {@code s}; its outcome is handled when the answer comes. */
    private void sendOn(Session s, Request r) {
        r.attempts++;
        r.outcome = Outcome.PENDING;
        s.sent.add(r);
        s.unresolved++;
        // May complete at once (and run onOutcome here, re-entering the lock) if the
        // connection has just closed.
        s.client.send(r.kind, r.op, r.payload).whenComplete((response, error) -> onOutcome(s, r, response, error));
    }

    private void onOutcome(Session s, Request r, Response response, Throwable error) {
        List<Runnable> run;
        synchronized (lock) {
            s.unresolved--;
            if (error == null && !declined(response)) {
                r.outcome = Outcome.ANSWERED;
                s.answered++;
                outstanding--;
                deferred.add(() -> r.future.complete(response));
            } else if (error == null) {
                r.outcome = Outcome.RESEND; // declined: not run, nor anything after it
                r.declined = response;
                s.usable = false;
            } else if (notRun(error)) {
                r.outcome = Outcome.RESEND;
                s.usable = false;
            } else {
                r.outcome = Outcome.FAILED;
                outstanding--;
                s.usable = false;
                deferred.add(() -> r.future.completeExceptionally(error));
            }
            // Answers arrive in order, so settled requests leave from the head: the deque holds
            // no more than the requests in flight, however long the connection lives.
            while (!s.sent.isEmpty() && s.sent.peekFirst().outcome != Outcome.PENDING
                    && s.sent.peekFirst().outcome != Outcome.RESEND) {
                s.sent.pollFirst();
            }
            settleIfDone(s);
            run = takeDeferred();
        }
        run.forEach(Runnable::run);
    }

    private static boolean declined(Response response) {
        return response.isError() && response.error() == ErrorCode.SHUTTING_DOWN;
    }

    /** A clean close (the server's FIN) or a write that never left: the server did not run it. */
    private static boolean notRun(Throwable error) {
        return error instanceof ConnectionClosedException
                && (error.getCause() == null || error.getCause() instanceof ClosedChannelException);
    }

    private void onSessionClosed(Session s) {
        List<Runnable> run;
        synchronized (lock) {
            s.usable = false;
            settleIfDone(s);
            run = takeDeferred();
        }
        run.forEach(Runnable::run);
    }

    /**
     * Under the lock. Once a retiring connection has no request left in doubt, the requests to
     * send again go to the front of the queue (they were made before anything queued since),
     * and a new connection is opened if anything is waiting.
     */
    private void settleIfDone(Session s) {
        if (s != session || s.usable || s.unresolved > 0) {
            return;
        }
        session = null;
        List<Request> again = new ArrayList<>();
        for (Request r : s.sent) {
            if (r.outcome == Outcome.RESEND) {
                again.add(r);
            }
        }
        s.sent.clear();
        // A connection that only declined (a server refusing or draining) slows the next attempt.
        emptySessions = s.answered == 0 && !again.isEmpty() ? emptySessions + 1 : 0;
        if (s.client.isOpen()) {
            s.client.shutdownOutput(); // nothing is owed on it any more; the server closes after our FIN
        }
        for (int i = again.size() - 1; i >= 0; i--) {
            Request r = again.get(i);
            if (closed) {
                fail(r, new ConnectionClosedException("client closed", null));
            } else if (r.attempts >= options.maxAttempts()) {
                Response last = r.declined;
                if (last != null) {
                    outstanding--;
                    deferred.add(() -> r.future.complete(last));
                } else {
                    fail(r, new ConnectionClosedException("connection closed " + r.attempts
                            + " times before the request was run", null));
                }
            } else {
                resent.incrementAndGet();
                waiting.addFirst(r);
            }
        }
        if (!waiting.isEmpty()) {
            startConnect();
        }
    }

    /** Under the lock: opens a connection unless one is being opened or in use. */
    private void startConnect() {
        if (connecting || closed || session != null) {
            return;
        }
        connecting = true;
        long delay = backoffMillis();
        // Connecting blocks, and the event loop must not: a short-lived thread of its own does it
        // (reconnects are rare; the library runs on Java 17, without virtual threads).
        Runnable attempt = () -> {
            Thread t = new Thread(this::connectOnce, "framepipe-reconnect");
            t.setDaemon(true);
            t.start();
        };
        if (delay == 0) {
            attempt.run();
        } else {
            group.schedule(attempt, delay, TimeUnit.MILLISECONDS);
        }
    }

    private long backoffMillis() {
        int failures = Math.max(emptySessions, connectFailures);
        if (failures == 0) {
            return 0;
        }
        long min = Math.max(1, options.minBackoff().toMillis());
        long d = min << Math.min(failures - 1, 20);
        return Math.min(d, options.maxBackoff().toMillis());
    }

    private void connectOnce() {
        FramepipeClient client;
        try {
            client = FramepipeClient.connect(host, port, group);
        } catch (Exception e) {
            List<Runnable> run;
            synchronized (lock) {
                connecting = false;
                connectFailures++;
                if (connectFailures >= options.maxConnectFailures()) {
                    connectFailures = 0;
                    while (!waiting.isEmpty()) {
                        fail(waiting.pollFirst(), new ConnectionClosedException(
                                "cannot reconnect to " + host + ":" + port, e));
                    }
                } else if (!waiting.isEmpty()) {
                    startConnect();
                }
                run = takeDeferred();
            }
            run.forEach(Runnable::run);
            return;
        }
        onConnected(client);
    }

    private void onConnected(FramepipeClient client) {
        List<Runnable> run;
        synchronized (lock) {
            connecting = false;
            connectFailures = 0;
            if (closed) {
                client.close();
                return;
            }
            connections.incrementAndGet();
            Session s = new Session(client);
            session = s;
            client.closeFuture().thenRun(() -> onSessionClosed(s));
            // The queue in order: requests sent again first, then those made while reconnecting.
            while (!waiting.isEmpty() && session == s && s.usable) {
                sendOn(s, waiting.pollFirst());
            }
            run = takeDeferred();
        }
        run.forEach(Runnable::run);
    }

    /** Under the lock. */
    private void fail(Request r, Throwable error) {
        outstanding--;
        r.outcome = Outcome.FAILED;
        deferred.add(() -> r.future.completeExceptionally(error));
    }

    private List<Runnable> takeDeferred() {
        if (deferred.isEmpty()) {
            return List.of();
        }
        List<Runnable> run = new ArrayList<>(deferred);
        deferred.clear();
        return run;
    }

    /** Closes the connection; requests not yet answered fail with {@link ConnectionClosedException}. */
    @Override
    public void close() {
        Session s;
        List<Runnable> run;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            s = session;
            while (!waiting.isEmpty()) {
                fail(waiting.pollFirst(), new ConnectionClosedException("client closed", null));
            }
            run = takeDeferred();
        }
        run.forEach(Runnable::run);
        boolean onEventLoop = group.next().inEventLoop(); // closed from one of our own callbacks
        if (s != null) {
            if (onEventLoop) {
                s.client.shutdownOutput();
            } else {
                s.client.close(); // its unanswered requests settle as failed: closed is set
            }
        }
        var terminated = group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        if (!onEventLoop) {
            terminated.syncUninterruptibly();
        }
    }
}
