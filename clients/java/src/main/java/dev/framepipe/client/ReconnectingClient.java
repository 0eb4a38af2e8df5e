package dev.framepipe.client;

import dev.framepipe.protocol.ErrorCode;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A pipelining client that outlives its connections: when the server retires a connection
 * ({@code max-connection-age}) or drains, this client opens a new one and sends again the
 * requests the server did not run, exactly once each, before any request made later. Every
 * request's future completes once, in the order the requests were made (a request whose
 * deadline passes fails early), as with {@link FramepipeClient}; it sends the same ways
 * ({@link #send}, {@link #trySend}, {@link #whenReady}) under the same back-pressure and
 * deadline contracts (package documentation). Thread-safe.
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
 * guessed at; later requests go to a new connection. A request whose deadline has passed is
 * never sent again.
 *
 * <p>Back-pressure counts every request made and not yet settled, those waiting for a new
 * connection included: at most {@link ClientOptions#maxInFlight()} of them, whose payloads the
 * client keeps until they are answered (to send them again), so its memory is bounded by
 * {@code maxInFlight} payloads.
 *
 * <p>Reconnecting backs off (doubling from {@link RetryPolicy#minBackoff()} to
 * {@link RetryPolicy#maxBackoff()}) while connections end without answering anything, so a
 * server that refuses or keeps declining is not hammered; a request declined
 * {@link RetryPolicy#maxAttempts()} times completes with the last SHUTTING_DOWN answer.
 */
public final class ReconnectingClient implements AutoCloseable {

    /**
     * @param maxAttempts        sends per request before its SHUTTING_DOWN answer is final (at least 1)
     * @param maxConnectFailures consecutive failed connection attempts before waiting requests fail (at least 1)
     * @param minBackoff         first delay before reconnecting after a connection that answered nothing
     * @param maxBackoff         longest such delay
     */
    public record RetryPolicy(int maxAttempts, int maxConnectFailures, Duration minBackoff, Duration maxBackoff) {

        public RetryPolicy {
            if (maxAttempts < 1 || maxConnectFailures < 1) {
                throw new IllegalArgumentException("maxAttempts and maxConnectFailures must be at least 1");
            }
            Objects.requireNonNull(minBackoff, "minBackoff");
            Objects.requireNonNull(maxBackoff, "maxBackoff");
            if (minBackoff.isNegative() || maxBackoff.compareTo(minBackoff) < 0) {
                throw new IllegalArgumentException("need 0 <= minBackoff <= maxBackoff, not " + minBackoff + ", "
                        + maxBackoff);
            }
        }

        /** 10 attempts, 20 connection failures, back-off from 10 ms to 2 s. */
        public static RetryPolicy defaults() {
            return new RetryPolicy(10, 20, Duration.ofMillis(10), Duration.ofSeconds(2));
        }
    }

    private enum Outcome { PENDING, ANSWERED, RESEND, FAILED }

    /** One request as the caller made it; it may travel on several connections. */
    private static final class Call {
        final Request request;
        final Duration limit;
        final CompletableFuture<Response> future = new CompletableFuture<>();
        int attempts;
        /** null while waiting to be sent; then as the last connection left it. */
        Outcome outcome;
        Response declined;
        Future<?> timer;
        /** The deadline passed: the future has failed; the call is never sent again. */
        boolean expired;

        Call(Request request, Duration limit) {
            this.request = request;
            this.limit = limit;
        }
    }

    /** One connection and the requests sent on it and not yet settled, in order. */
    private static final class Session {
        final FramepipeClient client;
        final ArrayDeque<Call> sent = new ArrayDeque<>();
        int unresolved;
        int answered;
        boolean usable = true;

        Session(FramepipeClient client) {
            this.client = client;
        }
    }

    private final String host;
    private final int port;
    private final ClientOptions options;
    private final RetryPolicy policy;
    private final ClientEventLoops loops;
    private final boolean ownsLoops;
    /**
     * One event loop for every connection this client opens: answers from an old connection
     * and from the one that replaces it are handled by the same thread, one after the other,
     * which is what keeps futures completing in request order across a reconnect.
     */
    private final EventLoop loop;
    private final AtomicLong connections = new AtomicLong();
    private final AtomicLong resent = new AtomicLong();
    private final AtomicLong declined = new AtomicLong();

    /** Guards everything below; callers' callbacks never run under it (see {@link #deferred}). */
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition room = lock.newCondition();
    private Session session;
    private final ArrayDeque<Call> waiting = new ArrayDeque<>();
    private boolean connecting;
    private boolean closed;
    private int emptySessions;
    private int connectFailures;
    /** Futures to complete once the lock is released. */
    private final List<Runnable> deferred = new ArrayList<>();
    /** Calls made and not yet settled (answered, failed, or dropped after their deadline). */
    private int outstanding;
    private int blockedSenders;
    private CompletableFuture<Void> ready;

    private ReconnectingClient(String host, int port, ClientOptions options, RetryPolicy policy,
            ClientEventLoops loops, boolean ownsLoops) {
        this.host = host;
        this.port = port;
        this.options = options;
        this.policy = policy;
        this.loops = loops;
        this.ownsLoops = ownsLoops;
        this.loop = loops.group.next();
    }

    /** Connects (failing at once when the server cannot be reached) with default options. */
    public static ReconnectingClient connect(String host, int port) throws IOException, InterruptedException {
        return connect(host, port, ClientOptions.defaults(), RetryPolicy.defaults());
    }

    public static ReconnectingClient connect(String host, int port, ClientOptions options)
            throws IOException, InterruptedException {
        return connect(host, port, options, RetryPolicy.defaults());
    }

    /**
     * Connects (failing at once, as {@link FramepipeClient#connect(String, int, ClientOptions)},
     * when the server cannot be reached); later connections are opened as needed.
     */
    public static ReconnectingClient connect(String host, int port, ClientOptions options, RetryPolicy policy)
            throws IOException, InterruptedException {
        ClientEventLoops shared = options.eventLoops();
        ClientEventLoops loops = shared != null ? shared : ClientEventLoops.single("framepipe-reconnecting-client");
        ReconnectingClient c = new ReconnectingClient(host, port, options, policy, loops, shared == null);
        try {
            c.onConnected(c.open());
            return c;
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            if (shared == null) {
                loops.close();
            }
            throw e;
        }
    }

    private FramepipeClient open() throws IOException, InterruptedException {
        // The connection has no bound and no deadline of its own: this client keeps both.
        return FramepipeClient.open(host, port, options, loops, loop, false, Integer.MAX_VALUE, null);
    }

    // ---- sending ----

    /**
     * Sends a request, waiting for room first while {@link ClientOptions#maxInFlight()}
     * requests are unsettled or the connection's send buffer is full, at most until the
     * request's deadline. The future fails as {@link FramepipeClient#send(Request)}'s does.
     */
    public CompletableFuture<Response> send(Request request) {
        return submit(request, true);
    }

    /** {@code send(Request.of(kind, op, payload))}; the payload is kept (not copied) until the request is answered. */
    public CompletableFuture<Response> send(int kind, int op, byte[] payload) {
        return send(Request.of(kind, op, payload));
    }

    /** Sends a request only if there is room now; otherwise returns null and sends nothing. */
    public CompletableFuture<Response> trySend(Request request) {
        return submit(request, false);
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

    /** Completes when a request can be sent without waiting, or exceptionally once the client is closed. */
    public CompletableFuture<Void> whenReady() {
        lock.lock();
        try {
            if (closed) {
                return CompletableFuture.failedFuture(new ConnectionClosedException("client closed", null));
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

    private CompletableFuture<Response> submit(Request request, boolean block) {
        long start = System.nanoTime();
        Duration limit = request.timeout() != null ? request.timeout() : options.requestTimeout();
        long limitNanos = saturatedNanos(limit);
        Call r = new Call(request, limit);
        Throwable failure = null;
        boolean interrupted = false;
        List<Runnable> run;
        lock.lock();
        try {
            while (true) {
                if (closed) {
                    failure = new ConnectionClosedException("client closed", null);
                    break;
                }
                if (hasRoom()) {
                    break;
                }
                if (!block) {
                    return null;
                }
                if (loops.inEventLoop()) {
                    failure = new IllegalStateException("the client is full (" + outstanding + " requests unsettled)"
                            + " and this is one of its I/O threads, which must not wait:"
                            + " use trySend and whenReady there");
                    break;
                }
                long left = limitNanos - (System.nanoTime() - start);
                if (left <= 0) {
                    failure = new RequestTimeoutException("not sent within " + limit + ": no room (" + outstanding
                            + " of at most " + options.maxInFlight() + " requests unsettled, or the send buffer full)",
                            limit, false);
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
            if (failure == null) {
                outstanding++;
                long left = limitNanos - (System.nanoTime() - start);
                try {
                    r.timer = loop.schedule(() -> expire(r), Math.max(0, left), TimeUnit.NANOSECONDS);
                } catch (RejectedExecutionException stopped) { // the shared loops were closed
                    outstanding--;
                    failure = new ConnectionClosedException("client's event loops are closed", stopped);
                }
            }
            if (failure == null) {
                if (session != null && session.usable) {
                    sendOn(session, r);
                } else {
                    r.outcome = null;
                    waiting.addLast(r);
                    startConnect();
                }
            }
            run = takeDeferred();
        } finally {
            lock.unlock();
        }
        run.forEach(Runnable::run);
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (failure != null) {
            r.future.completeExceptionally(failure);
        }
        return r.future;
    }

    /** Under the lock. */
    private boolean hasRoom() {
        return outstanding < options.maxInFlight()
                && (session == null || !session.usable || session.client.isWritable());
    }

    /** Under the lock: after a call settles or the connection drains, wakes senders if there is room. */
    private void roomMaybe() {
        if (closed || !hasRoom()) {
            return;
        }
        if (blockedSenders > 0) {
            room.signalAll();
        }
        CompletableFuture<Void> r = ready;
        ready = null;
        if (r != null) {
            deferred.add(() -> r.complete(null));
        }
    }

    /** On the loop: the call's deadline. */
    private void expire(Call r) {
        List<Runnable> run;
        lock.lock();
        try {
            if (r.outcome == Outcome.ANSWERED || r.outcome == Outcome.FAILED) {
                return;
            }
            r.expired = true;
            boolean onTheWire = r.outcome == Outcome.PENDING;
            String where = r.outcome == null ? "waiting to be sent" : onTheWire ? "sent" : "to be sent again";
            RequestTimeoutException e = new RequestTimeoutException("no answer from " + host + ":" + port + " within "
                    + r.limit + " (the request was " + where + ")", r.limit, onTheWire);
            if (r.outcome == null) {
                waiting.remove(r);
                fail(r, e);
            } else {
                // On the wire, or in a connection not settled yet: it stays counted until its
                // outcome arrives, then is dropped (never sent again).
                deferred.add(() -> r.future.completeExceptionally(e));
            }
            roomMaybe();
            run = takeDeferred();
        } finally {
            lock.unlock();
        }
        run.forEach(Runnable::run);
    }

    // ---- state ----

    /** Requests made and not yet settled (those waiting for a connection included). */
    public int inFlight() {
        lock.lock();
        try {
            return outstanding;
        } finally {
            lock.unlock();
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

    /**
     * SHUTTING_DOWN answers received so far (a drain or {@code max-connection-age} declining a
     * request): each declined request was sent again, or completed with that answer after
     * {@link RetryPolicy#maxAttempts()} sends. Requests sent again after a clean close without
     * a decline are counted by {@link #resent()} only.
     */
    public long declined() {
        return declined.get();
    }

    // ---- connections ----

    /** Under the lock. Sends {@code r} on {@code s}; its outcome is handled when the answer comes. */
    private void sendOn(Session s, Call r) {
        r.attempts++;
        r.outcome = Outcome.PENDING;
        s.sent.add(r);
        s.unresolved++;
        // May complete at once (and run onOutcome here, re-entering the lock) if the
        // connection has just closed.
        s.client.sendUnchecked(r.request).whenComplete((response, error) -> onOutcome(s, r, response, error));
    }

    private void onOutcome(Session s, Call r, Response response, Throwable error) {
        List<Runnable> run;
        lock.lock();
        try {
            s.unresolved--;
            if (error == null && !declined(response)) {
                r.outcome = Outcome.ANSWERED;
                s.answered++;
                settled(r);
                deferred.add(() -> r.future.complete(response)); // a no-op after the deadline: dropped
            } else if (error == null) {
                declined.incrementAndGet();
                r.outcome = Outcome.RESEND; // declined: not run, nor anything after it
                r.declined = response;
                s.usable = false;
            } else if (notRun(error)) {
                r.outcome = Outcome.RESEND;
                s.usable = false;
            } else {
                s.usable = false;
                fail(r, error);
            }
            // Answers arrive in order, so settled requests leave from the head: the deque holds
            // no more than the requests in flight, however long the connection lives.
            while (!s.sent.isEmpty() && s.sent.peekFirst().outcome != Outcome.PENDING
                    && s.sent.peekFirst().outcome != Outcome.RESEND) {
                s.sent.pollFirst();
            }
            settleIfDone(s);
            roomMaybe();
            run = takeDeferred();
        } finally {
            lock.unlock();
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
        lock.lock();
        try {
            s.usable = false;
            settleIfDone(s);
            roomMaybe();
            run = takeDeferred();
        } finally {
            lock.unlock();
        }
        run.forEach(Runnable::run);
    }

    /** On the loop: the current connection's send buffer drained. */
    private void onSessionWritable() {
        List<Runnable> run;
        lock.lock();
        try {
            roomMaybe();
            run = takeDeferred();
        } finally {
            lock.unlock();
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
        List<Call> again = new ArrayList<>();
        for (Call r : s.sent) {
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
            Call r = again.get(i);
            if (r.expired) {
                fail(r, null); // its future has failed already; it is not sent again
            } else if (closed) {
                fail(r, new ConnectionClosedException("client closed", null));
            } else if (r.attempts >= policy.maxAttempts()) {
                Response last = r.declined;
                if (last != null) {
                    r.outcome = Outcome.ANSWERED;
                    settled(r);
                    deferred.add(() -> r.future.complete(last));
                } else {
                    fail(r, new ConnectionClosedException("connection closed " + r.attempts
                            + " times before the request was run", null));
                }
            } else {
                resent.incrementAndGet();
                r.outcome = null;
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
            loop.schedule(attempt, delay, TimeUnit.MILLISECONDS);
        }
    }

    private long backoffMillis() {
        int failures = Math.max(emptySessions, connectFailures);
        if (failures == 0) {
            return 0;
        }
        long min = Math.max(1, policy.minBackoff().toMillis());
        long d = min << Math.min(failures - 1, 20);
        return Math.min(d, policy.maxBackoff().toMillis());
    }

    private void connectOnce() {
        FramepipeClient client;
        try {
            client = open();
        } catch (Exception e) {
            List<Runnable> run;
            lock.lock();
            try {
                connecting = false;
                connectFailures++;
                if (connectFailures >= policy.maxConnectFailures()) {
                    connectFailures = 0;
                    while (!waiting.isEmpty()) {
                        fail(waiting.pollFirst(), new ConnectionClosedException(
                                "cannot reconnect to " + host + ":" + port, e));
                    }
                    roomMaybe();
                } else if (!waiting.isEmpty()) {
                    startConnect();
                }
                run = takeDeferred();
            } finally {
                lock.unlock();
            }
            run.forEach(Runnable::run);
            return;
        }
        onConnected(client);
    }

    private void onConnected(FramepipeClient client) {
        List<Runnable> run;
        lock.lock();
        try {
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
            client.onWritable(this::onSessionWritable);
            // The queue in order: requests sent again first, then those made while reconnecting.
            while (!waiting.isEmpty() && session == s && s.usable) {
                sendOn(s, waiting.pollFirst());
            }
            roomMaybe();
            run = takeDeferred();
        } finally {
            lock.unlock();
        }
        run.forEach(Runnable::run);
    }

    /** Under the lock: the call is settled as failed ({@code error} null: its future has already failed). */
    private void fail(Call r, Throwable error) {
        r.outcome = Outcome.FAILED;
        settled(r);
        if (error != null) {
            deferred.add(() -> r.future.completeExceptionally(error));
        }
    }

    /** Under the lock: the call leaves the count, and its deadline no longer matters. */
    private void settled(Call r) {
        outstanding--;
        if (r.timer != null) {
            r.timer.cancel(false);
        }
    }

    private List<Runnable> takeDeferred() {
        if (deferred.isEmpty()) {
            return List.of();
        }
        List<Runnable> run = new ArrayList<>(deferred);
        deferred.clear();
        return run;
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE / 2;
        }
    }

    /** Closes the connection; requests not yet answered fail with {@link ConnectionClosedException}. */
    @Override
    public void close() {
        Session s;
        List<Runnable> run;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            s = session;
            while (!waiting.isEmpty()) {
                fail(waiting.pollFirst(), new ConnectionClosedException("client closed", null));
            }
            room.signalAll();
            CompletableFuture<Void> r = ready;
            ready = null;
            if (r != null) {
                deferred.add(() -> r.completeExceptionally(new ConnectionClosedException("client closed", null)));
            }
            run = takeDeferred();
        } finally {
            lock.unlock();
        }
        run.forEach(Runnable::run);
        boolean onEventLoop = loops.inEventLoop(); // closed from one of our own callbacks
        if (s != null) {
            if (onEventLoop) {
                s.client.shutdownOutput();
            } else {
                s.client.close(); // its unanswered requests settle as failed: closed is set
            }
        }
        if (ownsLoops) {
            loops.close();
        }
    }
}
