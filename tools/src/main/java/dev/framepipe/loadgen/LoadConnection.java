package dev.framepipe.loadgen;

import static dev.framepipe.protocol.FrameDescriptor.*;

import dev.framepipe.codec.MemoryViews;
import dev.framepipe.codec.DecodeFailure;
import dev.framepipe.codec.FrameDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.nio.charset.StandardCharsets;

/**
 * Drives one connection from its own event loop (no cross-thread hand-off per request). Closed
 * loop: keeps {@code depth} requests in flight, sending the next as each answer arrives. Open
 * loop ({@code ratePerSecond > 0}): sends on a fixed schedule, at most {@code depth} in flight,
 * and measures each latency from the request's intended send time, so a stalled server is not
 * hidden by requests that were never sent (coordinated omission). The schedule is driven by
 * {@link #tick()}, which one pacer task per event loop calls for all its connections. A
 * connection that is behind its schedule (the window of {@code depth} was full when requests came
 * due) also sends as soon as answers free the window, without waiting for the next tick: an
 * overdue request waits for the server, never for the pacer, so the latency charged to the server
 * after a stall is the server's.
 *
 * <p>Every answer is checked for id, order and kind; every {@code verifyEvery}-th answer's
 * payload is checked against the value computed by the generator.
 *
 * <p>The generator shares the machine with the server it measures, so what it spends per frame
 * is taken from the server: small requests are copied back to back into one buffer per flush
 * (one Netty write instead of two per request), and answers are read in place from the buffer
 * they arrived in ({@link FrameDecoder} with this handler as its sink, no slice per answer).
 */
final class LoadConnection extends ChannelInboundHandlerAdapter implements FrameDecoder.FrameSink, LoadGenerator.Driver {

    /** Requests with payloads up to this size are copied into {@link #batch}; larger ones are written as they are. */
    static final int BATCH_MAX_PAYLOAD = 1024;
    /** Size of a batch buffer; a flush that fills one starts another. */
    static final int BATCH_BYTES = 16 * 1024;

    private final RequestTemplate[] schedule; // weighted round-robin of the mix
    private final LoadStats stats;
    private final int depth;
    private final double ratePerNano;
    private final int verifyEvery;
    private final boolean verifyValues;

    private ChannelHandlerContext ctx;
    // Ring of in-flight requests, in order: template index and intended send time.
    private final int[] inFlightTemplate;
    private final long[] inFlightStart;
    private int head;
    private int inFlight;
    private long nextId = 1;
    private long expectedId = 1;
    private long sent;
    private long answered;
    private int next; // next schedule position
    private boolean stopping;
    /** When the open loop's schedule began (the first {@link #tick}); 0 before. */
    private long openLoopStart;
    /** Open loop: requests came due that the full window kept back; answers send them. */
    private boolean behind;
    /** Small requests written since the last flush, not yet passed to the channel; null when none. */
    private ByteBuf batch;
    /** The generator closed this connection itself (an answer stream it cannot read on). */
    private boolean closedHere;
    volatile boolean drained;

    @Override
    public boolean drained() {
        return drained;
    }

    LoadConnection(RequestTemplate[] schedule, int offset, LoadStats stats, int depth, double ratePerSecond,
                   int verifyEvery, boolean verifyValues) {
        this.schedule = schedule;
        this.next = offset % schedule.length;
        this.stats = stats;
        this.depth = depth;
        this.ratePerNano = ratePerSecond / 1e9;
        this.verifyEvery = Math.max(1, verifyEvery);
        this.verifyValues = verifyValues;
        int cap = Integer.highestOneBit(Math.max(1, depth - 1)) << 1;
        this.inFlightTemplate = new int[cap];
        this.inFlightStart = new long[cap];
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        stats.open.incrementAndGet();
        if (ratePerNano == 0) {
            for (int i = 0; i < depth; i++) {
                send(System.nanoTime());
            }
            flush();
        } // open loop: the generator's pacer calls tick()
        ctx.fireChannelActive();
    }

    /** Stops sending; answers still in flight are collected. Any thread. */
    @Override
    public void stop() {
        ctx.executor().execute(() -> {
            stopping = true;
            if (inFlight == 0) {
                drained = true;
            }
        });
    }

    /**
     * Open loop: whether the pacer ever ticked this connection. Read after {@link #drained}
     * (volatile, written later on the same event loop), which makes the plain field visible.
     */
    @Override
    public boolean paced() {
        return openLoopStart != 0;
    }

    /** Open loop: sends what the schedule says is due by now. The connection's event loop. */
    void tick() {
        if (stopping || ctx == null) {
            return;
        }
        long now = System.nanoTime();
        if (openLoopStart == 0) {
            openLoopStart = now;
        }
        if (sendDue(now)) {
            flush();
        }
    }

    /** Open loop: sends what is due by {@code now}, as far as the window allows. True if it sent any. */
    private boolean sendDue(long now) {
        long due = (long) ((now - openLoopStart) * ratePerNano);
        boolean wrote = false;
        while (sent < due && inFlight < depth) {
            // Intended time of this request, not now: the latency includes any wait to send it.
            long intended = openLoopStart + (long) (sent / ratePerNano);
            send(intended);
            wrote = true;
        }
        behind = sent < due;
        return wrote;
    }

    private void send(long intendedStart) {
        int t = next;
        next = next + 1 == schedule.length ? 0 : next + 1;
        RequestTemplate template = schedule[t];
        long id = nextId++;
        ByteBuf payload = template.payload;
        int n = payload.readableBytes();
        if (n <= BATCH_MAX_PAYLOAD) {
            ByteBuf out = batch;
            if (out != null && out.writableBytes() < HEADER_LENGTH + n) {
                writeBatch();
                out = null;
            }
            if (out == null) {
                out = batch = ctx.alloc().directBuffer(BATCH_BYTES);
            }
            writeHeader(out, n, template.kind, template.op, id);
            if (n > 0) {
                int at = out.writerIndex();
                MemoryViews.copy(payload, payload.readerIndex(),
                        MemoryViews.segment(out, at, n), MemoryViews.offset(out, at), n);
                out.writerIndex(at + n);
            }
        } else {
            writeBatch(); // requests stay in order
            ByteBuf header = ctx.alloc().directBuffer(HEADER_LENGTH);
            writeHeader(header, n, template.kind, template.op, id);
            ctx.write(header, ctx.voidPromise());
            ctx.write(payload.retainedDuplicate(), ctx.voidPromise());
        }
        int slot = (head + inFlight) & (inFlightTemplate.length - 1);
        inFlightTemplate[slot] = t;
        inFlightStart[slot] = intendedStart;
        inFlight++;
        sent++;
    }

    /** Passes the batch buffer, if any, to the channel (ownership passes to Netty). */
    private void writeBatch() {
        ByteBuf out = batch;
        if (out != null) {
            batch = null;
            ctx.write(out, ctx.voidPromise());
        }
    }

    private void flush() {
        writeBatch();
        ctx.flush();
    }

    @Override
    public boolean admitting() {
        return true;
    }

    /** An answer, in place in the buffer it arrived in (lent for this call only). */
    @Override
    public void onFrame(ByteBuf buf, int index, int length, long nowNanos) {
        onAnswer(buf, index, length, nowNanos);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof DecodeFailure failure) {
            // A header no answer can have (length, version): nothing after it can be trusted.
            stats.mismatches.increment();
            stats.problem("answer stream broken: " + failure.code().label() + ": " + failure.message());
            closedHere = true;
            ctx.close();
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    /** @param now when the decoding pass that found this answer began (one clock read per socket read) */
    private void onAnswer(ByteBuf frame, int at, int frameLength, long now) {
        if (inFlight == 0) {
            stats.mismatches.increment();
            stats.problem("answer with nothing in flight: id " + id(frame, at));
            closedHere = true;
            ctx.close();
            return;
        }
        int slot = head;
        head = (head + 1) & (inFlightTemplate.length - 1);
        inFlight--;
        answered++;
        RequestTemplate template = schedule[inFlightTemplate[slot]];
        long id = id(frame, at);
        int kind = kind(frame, at);
        boolean measuring = stats.measuring;
        if (id != expectedId) {
            stats.mismatches.increment();
            stats.problem("answer out of order: id " + id + ", expected " + expectedId);
        }
        expectedId = id + 1;
        int payloadLength = frameLength - HEADER_LENGTH;
        if (kind == ERROR_KIND) {
            int code = payloadLength >= 2 ? frame.getUnsignedShortLE(at + PAYLOAD_OFFSET) : 0;
            stats.errorCounted(code);
            if (stats.wantsProblems()) {
                int textLength = Math.max(0, payloadLength - 2);
                stats.errorAnswer(template.entry.toString(), code,
                        frame.toString(at + PAYLOAD_OFFSET + 2, textLength, StandardCharsets.UTF_8));
            }
        } else if (kind != template.answerKind() || op(frame, at) != template.op) {
            stats.mismatches.increment();
            stats.problem(template.entry + ": answer kind 0x" + Integer.toHexString(kind) + " op " + op(frame, at));
        } else if (answered % verifyEvery == 0) {
            String wrong = verifyValues
                    ? template.verify(frame, at + PAYLOAD_OFFSET, payloadLength)
                    : (payloadLength == template.expectedLength ? null
                        : template.entry + ": answer payload " + payloadLength + " bytes, expected " + template.expectedLength);
            if (wrong != null) {
                stats.mismatches.increment();
                stats.problem(wrong);
            }
        }
        if (measuring) {
            stats.frames.increment();
            stats.requestBytes.add(template.requestFrameBytes());
            stats.responseBytes.add(frameLength);
            stats.latency.recordValue(Math.max(0, now - inFlightStart[slot]));
        }
        if (stopping) {
            if (inFlight == 0) {
                drained = true;
            }
        } else if (ratePerNano == 0) {
            send(now);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (behind && !stopping) {
            sendDue(System.nanoTime()); // catching up: answers freed the window, requests are overdue
        }
        flush();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        stats.sentTotal.add(sent);
        stats.answeredTotal.add(answered);
        boolean byServer = !closedHere && !stats.finishing;
        if (byServer) {
            stats.closedByServer.incrementAndGet();
        }
        if (inFlight > 0 && !drained) {
            // not wrong answers: answers that never came
            stats.problem((byServer ? "the server closed a connection" : "connection closed") + " with " + inFlight
                    + " requests unanswered");
            stats.lost.add(inFlight);
        }
        // last: a run that sees no connection open reads this one's counts complete (atomics: sequentially consistent)
        stats.open.decrementAndGet();
        drained = true;
        if (batch != null) {
            batch.release();
            batch = null;
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Netty's native transport says "recvAddress(..) failed with error(-104): Connection reset by peer"
        String why = cause.getMessage() == null ? cause.toString() : cause.getMessage().replaceFirst("^\\w+\\(\\.\\.\\) failed with error\\(-?\\d+\\): ", "");
        stats.problem("connection failed: " + why);
        ctx.close();
    }
}
