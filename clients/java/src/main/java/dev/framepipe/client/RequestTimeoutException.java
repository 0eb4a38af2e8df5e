package dev.framepipe.client;

import java.time.Duration;
import java.util.concurrent.TimeoutException;

/**
 * A request's deadline passed before its answer arrived. The connection stays usable: the
 * client still expects the answer, matches it to this request by position when it comes, and
 * drops it, so later answers still reach their own requests.
 *
 * <p>{@link #mayHaveRun()} says whether the server may have run the request: false when it
 * never left the client (no room before the deadline: the server pushed back or the connection
 * had {@link ClientOptions#maxInFlight()} requests unanswered) or, for a
 * {@link ReconnectingClient}, when it was waiting to be sent again after the server declined it.
 */
public final class RequestTimeoutException extends TimeoutException {

    private static final long serialVersionUID = 1L;

    private final Duration timeout;
    private final boolean mayHaveRun;

    public RequestTimeoutException(String message, Duration timeout, boolean mayHaveRun) {
        super(message);
        this.timeout = timeout;
        this.mayHaveRun = mayHaveRun;
    }

    /** The deadline that passed, counted from the call that sent the request. */
    public Duration timeout() {
        return timeout;
    }

    /** False when the server certainly did not run the request (it is safe to send again). */
    public boolean mayHaveRun() {
        return mayHaveRun;
    }
}
