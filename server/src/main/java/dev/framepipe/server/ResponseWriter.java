package dev.framepipe.server;

import dev.framepipe.codec.Responses;
import dev.framepipe.codec.OpType;
import dev.framepipe.pipeline.Batch;
import dev.framepipe.pipeline.BatchOwner;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;

/**
 * Answers out: writes each answered batch (one write for a batch of small answers), flushes
 * once per write-back round, lets reading resume when the in-flight count has fallen to half
 * the limit, and writes the connection's last answer (a refused header or a SHUTTING_DOWN
 * decline) once every earlier one is written.
 *
 * <p>Ownership: each answer buffer a batch hands over ({@link Batch#writeResponses}) goes straight
 * to the channel. A batch whose source holds a direct-memory reservation (one large frame)
 * gives the reservation back when its answer has left the process, or at once when the answer
 * is not in the source (STATS of a large frame).
 */
final class ResponseWriter extends BatchOwner implements Batch.ResponseSink {

    private final Connection conn;
    private final int resumeInFlight;
    /**
     * The reservation of the batch being answered, from {@link #answered} until a write whose
     * answer lies in the source takes it over (released when that write has left) or the lane
     * has freed the source ({@link #buffersReleased}).
     */
    private long charge;

    ResponseWriter(Connection conn) {
        this.conn = conn;
        this.resumeInFlight = conn.shared.config().maxInFlight() / 2;
    }

    @Override
    protected void answered(Batch batch, long nowNanos) {
        Connection c = conn;
        c.inFlight -= batch.count();
        charge = batch.charged(); // given back in buffersReleased unless a write takes it over
        if (c.state == Connection.State.CLOSED) {
            return; // the client is gone; the answers have nowhere to go
        }
        c.counters.completed(batch, nowNanos - batch.startNanos());
        batch.writeResponses(this);
    }

    @Override
    protected void buffersReleased() {
        release(charge); // not handed to a write: the source is freed by now
        charge = 0;
    }

    @Override
    public void answer(ByteBuf answer, boolean inChargedSource) {
        if (inChargedSource && charge > 0) {
            long reserved = charge;
            charge = 0;
            conn.ctx.write(answer).addListener((ChannelFutureListener) f -> release(reserved));
        } else {
            conn.ctx.write(answer, conn.ctx.voidPromise());
        }
    }

    @Override
    protected void endOfRound() {
        Connection c = conn;
        if (c.state == Connection.State.CLOSED) {
            return;
        }
        c.ctx.flush();
        if ((c.pauseReasons & Connection.PAUSE_IN_FLIGHT) != 0 && c.inFlight <= resumeInFlight) {
            c.resume(Connection.PAUSE_IN_FLIGHT);
        }
        c.closer.check();
    }

    /** Writes and flushes the connection's last answer. Nothing may be in flight. */
    void writeTerminal(Connection.Terminal t) {
        ByteBuf answer = Responses.error(conn.ctx.alloc(), t.op(), t.id(), t.code(), t.message());
        conn.counters.completed(OpType.UNKNOWN_KIND, t.code(), 0);
        conn.counters.bytesOut(answer.readableBytes());
        conn.ctx.writeAndFlush(answer, conn.ctx.voidPromise());
    }

    private void release(long reserved) {
        if (reserved > 0) {
            conn.shared.memory().release(reserved);
        }
    }
}
