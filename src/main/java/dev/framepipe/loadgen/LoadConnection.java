package dev.framepipe.loadgen;

import static dev.framepipe.protocol.FrameDescriptor.*;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Drives one connection from its own event loop (no cross-thread hand-off per request). Closed
 * loop: keeps {@code depth} requests in flight, sending the next as each answer arrives. Open
 * loop ({@code ratePerSecond > 0}): sends on a fixed schedule, at most {@code depth} in flight,
 * and measures each latency from the request's intended send time, so a stalled server is not
 * hidden by requests that were never sent (coordinated omission).
 *
 * <p>Every answer is checked for id, order and kind; every {@code verifyEvery}-th answer's
 * payload is checked against the value computed by the generator.
 */
final class LoadConnection extends ChannelInboundHandlerAdapter {

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
    private long openLoopStart;
    private ScheduledFuture<?> ticker;
    private final Runnable tick = this::tick;
    volatile boolean drained;

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
        if (ratePerNano > 0) {
            openLoopStart = System.nanoTime();
            ticker = ctx.executor().scheduleAtFixedRate(tick, 0, 200, TimeUnit.MICROSECONDS);
        } else {
            for (int i = 0; i < depth; i++) {
                send(System.nanoTime());
            }
            ctx.flush();
        }
        ctx.fireChannelActive();
    }

    /** Stops sending; answers still in flight are collected. Any thread. */
    void stop() {
        ctx.executor().execute(() -> {
            stopping = true;
            if (ticker != null) {
                ticker.cancel(false);
            }
            if (inFlight == 0) {
                drained = true;
            }
        });
    }

    private void tick() {
        if (stopping) {
            return;
        }
        long now = System.nanoTime();
        long due = (long) ((now - openLoopStart) * ratePerNano);
        boolean wrote = false;
        while (sent < due && inFlight < depth) {
            // Intended time of this request, not now: the latency includes any wait to send it.
            long intended = openLoopStart + (long) (sent / ratePerNano);
            send(intended);
            wrote = true;
        }
        if (wrote) {
            ctx.flush();
        }
    }

    private void send(long intendedStart) {
        int t = next;
        next = next + 1 == schedule.length ? 0 : next + 1;
        RequestTemplate template = schedule[t];
        long id = nextId++;
        ByteBuf header = ctx.alloc().directBuffer(HEADER_LENGTH);
        writeHeader(header, template.payload.readableBytes(), template.kind, template.op, id);
        ctx.write(header, ctx.voidPromise());
        if (template.payload.isReadable()) {
            ctx.write(template.payload.retainedDuplicate(), ctx.voidPromise());
        }
        int slot = (head + inFlight) & (inFlightTemplate.length - 1);
        inFlightTemplate[slot] = t;
        inFlightStart[slot] = intendedStart;
        inFlight++;
        sent++;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        try {
            onAnswer(frame);
        } finally {
            frame.release();
        }
    }

    private void onAnswer(ByteBuf frame) {
        long now = System.nanoTime();
        int at = frame.readerIndex();
        if (inFlight == 0) {
            stats.mismatches.increment();
            stats.problem("answer with nothing in flight: id " + id(frame, at));
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
        int payloadLength = frame.readableBytes() - HEADER_LENGTH;
        if (kind == ERROR_KIND) {
            if (measuring) {
                stats.errors.increment();
                int code = payloadLength >= 2 ? frame.getUnsignedShortLE(at + PAYLOAD_OFFSET) : 0;
                stats.errorsByCode[code < stats.errorsByCode.length ? code : 0].increment();
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
            stats.responseBytes.add(frame.readableBytes());
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
        ctx.flush();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (inFlight > 0 && !drained) {
            stats.problem("connection closed with " + inFlight + " requests unanswered");
            stats.mismatches.add(inFlight);
        }
        drained = true;
        if (ticker != null) {
            ticker.cancel(false);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        stats.problem("connection failed: " + cause);
        ctx.close();
    }
}
