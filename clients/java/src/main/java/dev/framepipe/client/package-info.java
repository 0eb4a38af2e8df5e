/**
 * The Java client of framepipe (Java 17): {@link dev.framepipe.client.FramepipeClient} on one
 * connection, {@link dev.framepipe.client.ReconnectingClient} across the connections a server
 * retires. The API uses plain Java types; Netty is the implementation (its native epoll
 * transport and OpenSSL are used when on the class path, else NIO and the JDK's TLS).
 *
 * <h2>Threading</h2>
 * Clients are thread-safe: any thread may send. Each connection is served by one I/O thread
 * (a private one per client, or one of shared {@link dev.framepipe.client.ClientEventLoops}).
 * Futures are completed on that I/O thread, or on the sending thread when a request fails
 * before it is sent, so callbacks attached with {@code thenApply}/{@code whenComplete} (not the
 * {@code ...Async} forms) run there: keep them short and never block in them. A blocking
 * {@code send} called on an I/O thread when the client is full fails its future with
 * {@link java.lang.IllegalStateException} instead of waiting (it would wait for itself);
 * use {@code trySend} and {@code whenReady} there. No callback ever runs under a client's lock.
 *
 * <h2>Order</h2>
 * The server answers the frames of a connection in the order it received them; a client matches
 * each answer to its request by position (and checks the id), and completes the futures in the
 * order the requests were sent. The order of requests sent concurrently from several threads is
 * the order in which their {@code send} calls took the client's lock. A request that fails
 * early (deadline, interruption) completes out of that order; nothing else does.
 *
 * <h2>Back-pressure</h2>
 * A client holds at most {@link dev.framepipe.client.ClientOptions#maxInFlight()} requests
 * unanswered and about {@link dev.framepipe.client.ClientOptions#maxQueuedBytes()} bytes the
 * network has not taken (plus one request beyond it). When the server stops reading (it is
 * busy, or its own limits are reached), the client's queue fills and the caller is held back:
 * <ul>
 *   <li>{@code send(Request)} and the shortcuts ({@code stats}, {@code upper}, ...) wait for room,
 *       at most until the request's deadline (then {@link dev.framepipe.client.RequestTimeoutException}
 *       with {@code mayHaveRun() == false});</li>
 *   <li>{@code trySend(Request)} never waits: it returns null when there is no room;</li>
 *   <li>{@code whenReady()} completes when there is room, for callers that must not block.</li>
 * </ul>
 * Memory therefore stays bounded however fast a caller sends. A {@code FramepipeClient} copies
 * each payload into a network buffer released once written; a {@code ReconnectingClient} also
 * keeps each payload until its answer (to send it again), at most {@code maxInFlight} of them.
 *
 * <h2>Deadlines</h2>
 * Every request has a deadline: its own ({@link dev.framepipe.client.Request#withTimeout}) or
 * the client's {@link dev.framepipe.client.ClientOptions#requestTimeout()}, counted from the
 * call that sends it, waiting for room included. When it passes, the future fails with
 * {@link dev.framepipe.client.RequestTimeoutException}; the connection is not disturbed: the
 * request still counts as in flight until its answer arrives, which is then matched to it by
 * position and dropped, so later answers still reach their own requests. Cancelling a future
 * has the same effect. A {@code ReconnectingClient} never sends an expired request again.
 *
 * <h2>Failures</h2>
 * <ul>
 *   <li>An error answer (malformed frame, unknown op, SHUTTING_DOWN...) completes the future
 *       normally: check {@link dev.framepipe.client.Response#isError()}; the typed accessors
 *       ({@code stats()}, {@code text()}...) throw {@link dev.framepipe.client.FramepipeException}
 *       on one.</li>
 *   <li>{@link dev.framepipe.client.ConnectionClosedException}: the connection ended before the
 *       answer (with no cause: it closed cleanly or the request was never sent; with a cause: a
 *       reset, a TLS alert, a malformed answer).</li>
 *   <li>{@link dev.framepipe.client.RequestTimeoutException}: the deadline passed.</li>
 *   <li>{@link java.net.ConnectException} from {@code connect}: the server cannot be reached
 *       (the message names host and port); {@code ConnectionClosedException} from
 *       {@code connect}: the TLS handshake failed.</li>
 * </ul>
 */
package dev.framepipe.client;
