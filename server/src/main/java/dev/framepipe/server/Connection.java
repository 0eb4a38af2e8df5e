package dev.framepipe.server;

import dev.framepipe.codec.FrameDecoder;
import dev.framepipe.pipeline.Lane;
import dev.framepipe.pipeline.LaneCounters;
import dev.framepipe.protocol.ErrorCode;
import io.netty.channel.ChannelHandlerContext;

/**
 * One frame connection's state, shared by the small handlers that each do one job with it
 * ({@link Admission}: frames in and back-pressure; {@link ResponseWriter}: answers out;
 * {@link ConnectionTimers}: idle timeout and age; {@link GracefulClose}: the protocol's way of
 * closing). Everything here runs on the connection's I/O thread, so its fields are plain.
 *
 * <h2>Back-pressure</h2>
 * Reading pauses while any reason holds: the lane has no room for another batch, the
 * connection has {@code max-in-flight} frames unanswered, its unsent answers are above the
 * high water mark, or a large frame waits for direct memory. Each reason is set and cleared by
 * the handler that owns it; reading resumes when the last one clears.
 */
final class Connection {

    enum State { OPEN, DRAINING, CLOSING, CLOSED }

    static final int PAUSE_LANE_FULL = 1;
    static final int PAUSE_IN_FLIGHT = 2;
    static final int PAUSE_UNWRITABLE = 4;
    static final int PAUSE_MEMORY = 8;

    /** The answer a connection owes last: a refused header or a SHUTTING_DOWN decline. */
    record Terminal(ErrorCode code, int op, long id, String message) {
    }

    final ConnectionContext shared;
    final Lane lane;
    final LaneCounters counters;
    final FrameDecoder decoder;
    final Admission admission;
    final ResponseWriter answers;
    final GracefulClose closer;
    /** The context writes go through (the last handler's): set when the pipeline is built. */
    ChannelHandlerContext ctx;
    /** Under TLS: holds a client's close_notify back while answers are owed; null without TLS. */
    TlsCloseGate tlsGate;

    State state = State.OPEN;
    /** Frames admitted (handed to the lane) and not yet answered. */
    int inFlight;
    int pauseReasons;
    /** When the last complete frame was decoded (idle timeout). */
    long lastFrameNanos;
    /** Set once the decoder refused a header or declined one: written when nothing is in flight. */
    Terminal terminal;

    Connection(ConnectionContext shared, Lane lane, int maxFrameBytes, boolean directReads) {
        this.shared = shared;
        this.lane = lane;
        this.counters = lane.counters();
        this.admission = new Admission(this);
        this.decoder = new FrameDecoder(maxFrameBytes, admission).directReads(directReads);
        this.answers = new ResponseWriter(this);
        this.closer = new GracefulClose(this);
    }

    boolean closingOrClosed() {
        return state == State.CLOSING || state == State.CLOSED;
    }

    /**
     * Stops reading for {@code reason} (counted once per pause of that reason). A draining
     * connection keeps reading: its decoder declines the next header and discards the rest, so
     * reading costs no memory, and what the socket holds must be read to be declined.
     */
    void pause(int reason) {
        if (pauseReasons == 0 && state == State.OPEN) {
            ctx.channel().config().setAutoRead(false);
        }
        if ((pauseReasons & reason) == 0) {
            pauseReasons |= reason;
            if (reason == PAUSE_LANE_FULL) {
                counters.pausedRingFull();
            } else if (reason == PAUSE_UNWRITABLE) {
                counters.pausedUnwritable();
            }
        }
    }

    /** Clears {@code reason}; reading resumes (frames already buffered first) when none is left. */
    void resume(int reason) {
        if ((pauseReasons & reason) == 0) {
            return;
        }
        pauseReasons &= ~reason;
        if (pauseReasons == 0 && (state == State.OPEN || state == State.DRAINING)) {
            decoder.resume(); // frames already buffered first; this may pause again
            if (pauseReasons == 0 && !closingOrClosed()) {
                readOn();
            }
            closer.check();
        }
    }

    /**
     * Turns reading on, unless the client's input has ended (every byte it sent is then read
     * already: Netty reads to the end of the stream once it has seen the FIN).
     */
    void readOn() {
        if (!decoder.inputClosed() && ctx.channel().isActive()) {
            ctx.channel().config().setAutoRead(true);
        }
    }
}
