package dev.framepipe.codec;

import static dev.framepipe.protocol.FrameDescriptor.*;

import dev.framepipe.protocol.ErrorCode;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.protocol.Ops;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;

/**
 * Splits the byte stream into frames. Each complete frame stays in the buffer it arrived in
 * (length field first): the payload is never copied, except when a frame straddles two socket
 * reads and its bytes must be joined in one buffer. It is handed on in one of two ways:
 * <ul>
 *   <li>to a {@link FrameSink}, in place: the sink gets the buffer and the frame's bounds and
 *       retains the buffer if it keeps the frame. No object is made per frame; this is how the
 *       service takes frames;</li>
 *   <li>otherwise as a retained slice, down the channel pipeline (what a plain Netty handler
 *       expects; the transport-only baseline works this way).</li>
 * </ul>
 *
 * <h2>Large frames</h2>
 * A frame of at least {@link #ASSEMBLE_BYTES} that has started but not finished arriving is
 * assembled in a buffer of exactly its size, reserved first from the sink
 * ({@link FrameSink#reserve}: the service's direct-memory budget). Without TLS the socket then
 * reads straight into that buffer ({@link FrameReadAllocator}): a frame of megabytes costs one
 * copy, the kernel's. When the sink has no room yet, decoding waits, with at most one read's
 * bytes held, until the sink grants the reservation.
 *
 * <h2>Large STATS frames: folded as they arrive</h2>
 * A STATS frame that would be assembled, whose payload is a whole number of float32, is not
 * assembled at all when the sink takes it as a fold ({@link FrameSink#beginFold}): its payload
 * goes to the sink read by read ({@link FrameSink#fold}, whole values only; a value split
 * between two reads is joined in four bytes of the decoder's), and once the last byte is in the
 * sink answers it ({@link FrameSink#onFoldedFrame}) in its place in the order. Without TLS the
 * socket reads such a payload into buffers of at most {@link #FOLD_READ_BYTES}, so the values
 * are still in the cache when they are folded; the frame takes no direct-memory reservation,
 * whatever its size. Only a frame whose gate admits it when its header is read is folded.
 *
 * <h2>Failures and declines</h2>
 * A header the protocol refuses (length below 12, bad version, too large) and, once
 * {@link #decline}d, the next header at all, end decoding: the sink gets
 * {@link FrameSink#onFailure} (or, without a sink, a {@link DecodeFailure} goes down the
 * pipeline in the frame's place) and all later input is discarded.
 *
 * <p>Back-pressure: before passing on each frame the decoder asks its {@link Gate}; when the
 * gate is closed the remaining bytes stay buffered until {@link #resume()}.
 *
 * <p>Ownership: the decoder owns its cumulation buffer (and the assembly buffer while a large
 * frame is arriving); every slice it passes on is retained for, and owned by, the next handler;
 * a sink retains what it keeps.
 */
public final class FrameDecoder extends ChannelInboundHandlerAdapter {

    /** Frames from this size on are assembled in a buffer of their own (larger than one read). */
    public static final int ASSEMBLE_BYTES = 64 * 1024;

    /**
     * Most bytes one socket read takes of a folding frame's payload: small enough that the
     * values are still in the core's cache (half of a 1 MiB L2) when the fold reads them, large
     * enough that the sender is woken rarely; 512 KiB measured best of 256 KiB to 1 MiB
     * (docs/performance.md, large frames).
     */
    public static final int FOLD_READ_BYTES = 512 * 1024;

    /** Whether the next handler accepts another frame now. */
    public interface Gate {
        boolean admitting();
    }

    /**
     * A gate that also takes the frames themselves, in place, instead of as slices.
     *
     * <p>Ownership: {@code buf} is lent for the duration of the call only. A sink that keeps the
     * frame retains {@code buf} (once) and later releases it (once); the decoder keeps its own
     * reference and never writes to bytes it has handed on.
     */
    public interface FrameSink extends Gate {
        /**
         * A complete frame: {@code length} bytes of {@code buf} from {@code index}, length field
         * first.
         *
         * @param nowNanos {@link System#nanoTime()} read once per decoding pass (one socket read,
         *                 or the buffered frames a {@link #resume()} passes on), just before its
         *                 first frame: the frames of a pass arrived together, and one clock read
         *                 per frame was about 9 % of a saturated I/O thread's time on this VM
         */
        void onFrame(ByteBuf buf, int index, int length, long nowNanos);

        /**
         * A large frame assembled in a buffer of its own ({@code length} bytes from index 0),
         * whose reservation of {@code reserved} bytes passes to the sink with it.
         */
        default void onAssembledFrame(ByteBuf buf, int length, long nowNanos, long reserved) {
            onFrame(buf, 0, length, nowNanos);
        }

        /** Every frame of the current decoding pass has been passed on. */
        default void endOfPass() {
        }

        /**
         * Reserves {@code bytes} for assembling a large frame. True: reserved now (the decoder
         * owns the reservation until it hands the frame on, or releases it through
         * {@link #unreserve}). False: not yet; the sink stops reading and later calls
         * {@link FrameDecoder#reserved} on the channel's thread once the bytes are reserved.
         */
        default boolean reserve(long bytes) {
            return true;
        }

        /** Gives back a reservation the decoder no longer needs (the frame was cut off). */
        default void unreserve(long bytes) {
        }

        /**
         * Whether the sink folds this STATS frame as it arrives instead of having it assembled.
         * True: {@link #fold} calls follow with the payload, then either
         * {@link #onFoldedFrame} or {@link #abandonFold}. The frame is taken (in the in-flight
         * count) only at {@link #onFoldedFrame}.
         *
         * @param payloadBytes a positive multiple of four
         */
        default boolean beginFold(int op, long id, int payloadBytes) {
            return false;
        }

        /** Whole float32 values of the folding frame's payload: {@code length} bytes of {@code buf} from {@code index}, lent for this call. */
        default void fold(ByteBuf buf, int index, int length) {
        }

        /**
         * The folding frame's last byte has arrived and the gate admits it: the sink answers it
         * now, after every frame passed on before it.
         *
         * @param op        the frame's op and id, as {@link #beginFold} had them
         * @param frameSize the frame's size on the wire, length field included
         */
        default void onFoldedFrame(int op, long id, int frameSize, long nowNanos) {
        }

        /** The folding frame gets no answer from the fold (cut off, declined, discarded). */
        default void abandonFold() {
        }

        /**
         * A refused header, or a decline: the last thing this connection decodes. Without an
         * override it goes down the pipeline as a {@link DecodeFailure}.
         *
         * @return true if handled here
         */
        default boolean onFailure(ErrorCode code, int op, long id, String message) {
            return false;
        }
    }

    private enum Mode { DECODING, DECLINING, DISCARDING }

    private static final String SHUTTING_DOWN_MESSAGE = "server is shutting down; request not started";

    private final int maxLength;
    private final Gate gate;
    /** {@link #gate} when it takes frames in place, else null (frames go out as slices). */
    private final FrameSink sink;
    private ChannelHandlerContext ctx;
    /** Bytes received and not yet passed on; null when none. While assembling, the assembly buffer. */
    private ByteBuf cumulation;
    private Mode mode = Mode.DECODING;
    private boolean inputClosed;
    private String declineMessage = SHUTTING_DOWN_MESSAGE;
    /** Whether the socket may read straight into an assembly buffer (not under TLS). */
    private boolean directReads;
    /** Bytes reserved for the frame being assembled in {@link #cumulation}; 0 when not assembling. */
    private long assemblyReserved;
    /** Waiting for the sink to grant a reservation for a frame of this size; 0 when not. */
    private int awaitingReservation;
    /** The slice of the assembly buffer handed to the socket for its next read, if any. */
    private ByteBuf readTarget;
    /**
     * Bytes that arrived behind a complete large frame still held back by the gate (its
     * assembly buffer holds nothing but the frame); they become the cumulation once it is
     * handed on. Null otherwise.
     */
    private ByteBuf tail;

    // ---- a STATS frame being folded (the sink took it at beginFold) ----
    /** Payload bytes of the folding frame not received yet; see {@link #folding}. */
    private long foldLeft;
    /** A frame is being folded: its header is consumed, {@link #foldLeft} bytes are still due. */
    private boolean folding;
    /** The folding frame has arrived whole and waits for the gate ({@link FrameSink#onFoldedFrame}). */
    private boolean foldDone;
    private int foldOp;
    private long foldId;
    private int foldFrameSize;
    /** The first bytes of a value split between two reads (allocated at the first split). */
    private ByteBuf foldCarry;
    /** Whether {@link #readTarget} is a buffer of the decoder's own for a fold (not a slice of the assembly). */
    private boolean readTargetIsFold;

    /**
     * @param maxLength the largest accepted value of the length field ({@code max-frame-bytes})
     */
    public FrameDecoder(int maxLength, Gate gate) {
        if (maxLength < MIN_LENGTH) {
            throw new IllegalArgumentException("maxLength " + maxLength + " < " + MIN_LENGTH);
        }
        this.maxLength = maxLength;
        this.gate = gate;
        this.sink = gate instanceof FrameSink s ? s : null;
    }

    /**
     * Lets the socket read a large frame's bytes straight into its assembly buffer (install
     * {@link FrameReadAllocator} on the channel too). Only where nothing sits between the socket
     * and this decoder that changes the bytes (no TLS).
     */
    public FrameDecoder directReads(boolean on) {
        this.directReads = on;
        return this;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        abandonFold();
        releaseCumulation();
        if (foldCarry != null) {
            foldCarry.release();
            foldCarry = null;
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (in == readTarget && readTargetIsFold) {
            readTarget = null; // a buffer of its own, not a slice of an assembly: read like any other
        } else if (in == readTarget) {
            readTarget = null;
            int n = in.readableBytes();
            in.release();
            if (mode == Mode.DISCARDING || inputClosed || cumulation == null) {
                return; // the assembly was given up meanwhile (discard, close)
            }
            cumulation.writerIndex(cumulation.writerIndex() + n); // the socket wrote them in place
            decode();
            return;
        }
        if (mode == Mode.DISCARDING || inputClosed) {
            in.release();
            return;
        }
        if (folding) {
            foldIncoming(in);
        } else {
            cumulate(in);
        }
        decode();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            inputClosed = true;
            dropIncompleteFrame();
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        inputClosed = true;
        abandonFold();
        releaseCumulation();
        ctx.fireChannelInactive();
    }

    /**
     * Where the socket's next read should go: the rest of the large frame being assembled, or
     * null for a buffer of the socket's own choosing. I/O thread ({@link FrameReadAllocator}).
     */
    ByteBuf readTarget() {
        if (readTarget != null && readTarget.refCnt() == 0) {
            readTarget = null; // the socket read nothing into it and released it
        }
        if (folding && directReads && readTarget == null && mode == Mode.DECODING && !inputClosed) {
            // The rest of the folding payload, in cache-sized reads that never take the next frame's bytes.
            int n = (int) Math.min(foldLeft, FOLD_READ_BYTES);
            readTarget = ctx.alloc().directBuffer(n, n);
            readTargetIsFold = true;
            return readTarget;
        }
        if (!directReads || assemblyReserved == 0 || readTarget != null || cumulation == null
                || mode == Mode.DISCARDING || inputClosed) {
            return null;
        }
        int rest = cumulation.capacity() - cumulation.writerIndex();
        if (rest <= 0) {
            return null;
        }
        readTarget = cumulation.retainedSlice(cumulation.writerIndex(), rest).clear();
        readTargetIsFold = false;
        return readTarget;
    }

    /** Decodes what is buffered, after the gate has opened again. I/O thread. */
    public void resume() {
        if ((cumulation != null || foldDone) && awaitingReservation == 0) {
            decode();
        }
    }

    /**
     * The sink has reserved the bytes {@link FrameSink#reserve} could not give at once: the
     * waiting large frame is assembled now. I/O thread.
     */
    public void reserved(long bytes) {
        int frameSize = awaitingReservation;
        awaitingReservation = 0;
        if (frameSize == 0 || cumulation == null || mode == Mode.DISCARDING) {
            sink.unreserve(bytes); // nothing to assemble any more
            return;
        }
        startAssembly(frameSize, bytes);
        decode();
    }

    /** Whether a reservation for a large frame is awaited (reading should stay paused). */
    public boolean awaitingMemory() {
        return awaitingReservation != 0;
    }

    /**
     * The server is draining: the next frame (and with it the rest of the connection) is
     * declined with SHUTTING_DOWN instead of being decoded.
     */
    public void decline() {
        decline(SHUTTING_DOWN_MESSAGE);
    }

    /**
     * Like {@link #decline()}, with the human-readable message of the SHUTTING_DOWN answer
     * (for example why the connection is being retired).
     */
    public void decline(String message) {
        if (mode == Mode.DECODING) {
            mode = Mode.DECLINING;
            declineMessage = message;
            // A large frame waiting for memory was not read (not complete): it is the one declined.
            // Its grant, when it comes, finds nothing to assemble and goes back.
            awaitingReservation = 0;
            if (cumulation != null || folding || foldDone) {
                decode();
            }
        }
    }

    /** Drops buffered bytes and every byte that arrives from now on. */
    public void discard() {
        mode = Mode.DISCARDING;
        abandonFold();
        releaseCumulation();
    }

    /** Whether bytes are buffered: a frame in progress, or frames held back by the gate. */
    public boolean hasBufferedBytes() {
        return cumulation != null || folding || foldDone;
    }

    /** Whether the decoder still takes frames (not declining, not discarding). */
    public boolean decoding() {
        return mode == Mode.DECODING;
    }

    /**
     * Whether a frame has started arriving and is not complete yet: the client owes bytes. False
     * when nothing is buffered, when the buffered frame is complete (held back by the gate: the
     * server is the one waiting), while a reservation is awaited (the server is waiting too),
     * and once the decoder discards input.
     */
    public boolean frameInProgress() {
        if (folding) {
            return mode != Mode.DISCARDING && !inputClosed;
        }
        ByteBuf buf = cumulation;
        if (buf == null || foldDone || mode == Mode.DISCARDING || inputClosed || awaitingReservation != 0) {
            return false;
        }
        int readable = buf.readableBytes();
        if (readable < LENGTH_FIELD_SIZE) {
            return true;
        }
        long length = length(buf, buf.readerIndex());
        if (length < MIN_LENGTH || length > maxLength) {
            return false; // decided by the header: an error answer, not a wait for bytes
        }
        return readable < LENGTH_FIELD_SIZE + length;
    }

    /** Whether the client has shut down its sending side (or the channel is gone). */
    public boolean inputClosed() {
        return inputClosed;
    }

    private void decode() {
        long passNanos = 0;
        boolean clockRead = false;
        boolean passed = false;
        try {
            if (foldDone && mode == Mode.DECODING && gate.admitting()) {
                passNanos = System.nanoTime();
                clockRead = true;
                passed = true;
                foldDone = false;
                sink.onFoldedFrame(foldOp, foldId, foldFrameSize, passNanos);
            } else if ((folding || foldDone) && mode == Mode.DECLINING) {
                // complete or not, it was not started: declined like any frame held back
                fail(ErrorCode.SHUTTING_DOWN, foldOp, foldId, declineMessage);
            }
            // Frames behind a fold wait while its bytes are due or its answer is held back.
            while (!folding && !foldDone && cumulation != null && awaitingReservation == 0) {
                ByteBuf buf = cumulation;
                int start = buf.readerIndex();
                int readable = buf.readableBytes();
                if (readable < LENGTH_FIELD_SIZE) {
                    break;
                }
                long length = length(buf, start);
                if (length < MIN_LENGTH) {
                    fail(ErrorCode.MALFORMED, 0, 0, "length " + length + " is below the minimum of " + MIN_LENGTH);
                    break;
                }
                if (readable < HEADER_LENGTH) {
                    break;
                }
                ErrorCode failure = null;
                String message = null;
                if (mode == Mode.DECLINING) {
                    failure = ErrorCode.SHUTTING_DOWN;
                    message = declineMessage;
                } else if (version(buf, start) != VERSION) {
                    failure = ErrorCode.BAD_VERSION;
                    message = "version " + version(buf, start) + " is not supported; expected " + VERSION;
                } else if (length > maxLength) {
                    failure = ErrorCode.FRAME_TOO_LARGE;
                    message = "length " + length + " exceeds max-frame-bytes " + maxLength;
                }
                if (failure != null) {
                    // op and id are read only here: a frame that is passed on has them read by
                    // its receiver, so the hot path reads each header field once
                    fail(failure, op(buf, start), id(buf, start), message);
                    break;
                }
                int frameSize = LENGTH_FIELD_SIZE + (int) length;
                if (readable < frameSize) {
                    if (frameSize >= ASSEMBLE_BYTES && assemblyReserved == 0 && sink != null) {
                        if (startFold(buf, start, frameSize)) {
                            break; // decoding waits for the fold's bytes
                        }
                        if (sink.reserve(frameSize)) {
                            startAssembly(frameSize, frameSize);
                        } else {
                            awaitingReservation = frameSize; // the sink pauses reading; reserved() resumes
                        }
                    } else {
                        makeRoom(frameSize);
                    }
                    break;
                }
                if (!gate.admitting()) {
                    break;
                }
                if (!clockRead) {
                    passNanos = System.nanoTime();
                    clockRead = true;
                }
                passed = true;
                if (sink != null) {
                    handOn(buf, start, frameSize, passNanos);
                } else {
                    ByteBuf frame = buf.retainedSlice(start, frameSize);
                    buf.skipBytes(frameSize);
                    if (!buf.isReadable()) {
                        releaseCumulation();
                    }
                    ctx.fireChannelRead(frame);
                }
            }
        } finally {
            if (passed && sink != null) {
                sink.endOfPass();
            }
        }
        if (inputClosed) {
            dropIncompleteFrame();
        }
    }

    /** Passes a frame to the sink, in place. */
    private void handOn(ByteBuf buf, int start, int frameSize, long passNanos) {
        // The decoder's state is final before the call, because the sink may re-enter it
        // (decline, discard, resume). A buffer read to its end is no longer the cumulation, and
        // the local reference keeps it alive until the sink returns.
        buf.skipBytes(frameSize);
        boolean consumed = !buf.isReadable();
        long reserved = assemblyReserved;
        if (consumed) {
            cumulation = tail; // what arrived behind an assembled frame, if anything
            tail = null;
            assemblyReserved = 0;
        }
        try {
            if (reserved > 0) {
                // An assembly buffer holds exactly its one frame: it is consumed.
                sink.onAssembledFrame(buf, frameSize, passNanos, reserved);
            } else {
                sink.onFrame(buf, start, frameSize, passNanos);
            }
        } finally {
            if (consumed) {
                buf.release();
            }
        }
    }

    /**
     * Starts folding the STATS frame whose header is at {@code start} of the cumulation, if the
     * sink takes it (see the class comment): its header is consumed and the payload bytes
     * already here are folded.
     */
    private boolean startFold(ByteBuf buf, int start, int frameSize) {
        int payload = frameSize - HEADER_LENGTH;
        int op = op(buf, start);
        if (kind(buf, start) != Kinds.FLOATS || op != Ops.STATS || (payload & 3) != 0 || !gate.admitting()) {
            return false;
        }
        long id = id(buf, start);
        if (!sink.beginFold(op, id, payload)) {
            return false;
        }
        folding = true;
        foldOp = op;
        foldId = id;
        foldFrameSize = frameSize;
        foldLeft = payload;
        buf.skipBytes(HEADER_LENGTH);
        cumulation = null;
        foldIncoming(buf);
        return true;
    }

    /**
     * Folds the folding frame's bytes at the start of {@code in} (owned here from now on); what
     * follows the frame becomes the cumulation.
     */
    private void foldIncoming(ByteBuf in) {
        int i = in.readerIndex();
        int end = in.writerIndex();
        ByteBuf carry = foldCarry;
        int carried = carry == null ? 0 : carry.writerIndex();
        if (carried > 0) {
            // completes the value split between the last read and this one
            int n = Math.min(Float.BYTES - carried, end - i);
            carryBytes(carry, in, i, n);
            i += n;
            foldLeft -= n;
            if (carry.writerIndex() == Float.BYTES) {
                sink.fold(carry, 0, Float.BYTES);
                carry.clear();
            }
        }
        int take = (int) Math.min(end - i, foldLeft);
        int whole = take & ~(Float.BYTES - 1);
        if (whole > 0) {
            sink.fold(in, i, whole);
        }
        int split = take - whole;
        if (split > 0) {
            if (carry == null) {
                carry = foldCarry = ctx.alloc().directBuffer(Float.BYTES, Float.BYTES);
            }
            carryBytes(carry, in, i + whole, split);
        }
        i += take;
        foldLeft -= take;
        if (foldLeft == 0) {
            folding = false;
            foldDone = true; // the payload is a whole number of values, so nothing is carried
        }
        if (i < end) {
            in.readerIndex(i); // the next frames: they wait behind the folded one
            cumulation = in;
        } else {
            in.release();
        }
    }

    /** Appends {@code n} bytes of {@code in} at {@code index} to the carry (no NIO views, see MemoryViews#copy). */
    private static void carryBytes(ByteBuf carry, ByteBuf in, int index, int n) {
        int w = carry.writerIndex();
        MemoryViews.copy(in, index, MemoryViews.segment(carry, w, n), MemoryViews.offset(carry, w), n);
        carry.writerIndex(w + n);
    }

    /** Forgets the folding frame (no answer from the fold). */
    private void abandonFold() {
        if (folding || foldDone) {
            folding = false;
            foldDone = false;
            foldLeft = 0;
            if (foldCarry != null) {
                foldCarry.clear();
            }
            sink.abandonFold();
        }
    }

    /** A frame cut off by the client's FIN gets no answer; complete frames still held do. */
    private void dropIncompleteFrame() {
        if (folding) {
            abandonFold();
        }
        ByteBuf buf = cumulation;
        if (buf == null || mode == Mode.DISCARDING) {
            return;
        }
        int readable = buf.readableBytes();
        if (readable < LENGTH_FIELD_SIZE) {
            releaseCumulation();
            return;
        }
        long length = length(buf, buf.readerIndex());
        boolean headerDecides = length < MIN_LENGTH || (readable >= HEADER_LENGTH
                && (mode == Mode.DECLINING || version(buf, buf.readerIndex()) != VERSION || length > maxLength));
        if (!headerDecides && readable < LENGTH_FIELD_SIZE + length) {
            releaseCumulation();
        }
    }

    private void fail(ErrorCode code, int op, long id, String message) {
        mode = Mode.DISCARDING;
        abandonFold();
        releaseCumulation();
        if (sink == null || !sink.onFailure(code, op, id, message)) {
            ctx.fireChannelRead(new DecodeFailure(code, op, id, message));
        }
    }

    private void cumulate(ByteBuf in) {
        ByteBuf buf = cumulation;
        if (buf == null) {
            // The common case: frames are sliced straight out of the buffer the socket filled.
            cumulation = in;
            return;
        }
        int incoming = in.readableBytes();
        if (buf.writableBytes() >= incoming) {
            // Appending past the writer index never touches bytes that slices already passed on
            // still see, so this is safe even while those slices are alive.
            buf.writeBytes(in);
            in.release();
            return;
        }
        if (assemblyReserved > 0) {
            // The read goes past the end of the frame being assembled (under TLS, or a read
            // that was not ours): the frame's part completes the assembly, the rest waits
            // behind it until the frame is handed on.
            buf.writeBytes(in, buf.writableBytes());
            tail = tail == null ? in : join(tail, in);
            return;
        }
        cumulation = join(buf, in);
    }

    /** {@code buf}'s readable bytes followed by {@code in}'s, in one new buffer; both are released. */
    private ByteBuf join(ByteBuf buf, ByteBuf in) {
        if (buf.writableBytes() >= in.readableBytes()) {
            buf.writeBytes(in);
            in.release();
            return buf;
        }
        int needed = buf.readableBytes() + in.readableBytes();
        ByteBuf joined = ctx.alloc().directBuffer(Math.max(needed, expectedFrameSize(buf)));
        joined.writeBytes(buf);
        joined.writeBytes(in);
        buf.release();
        in.release();
        return joined;
    }

    /** Size of the frame at the head of {@code buf} when its length is known, sane and small, else 0. */
    private int expectedFrameSize(ByteBuf buf) {
        if (buf.readableBytes() < LENGTH_FIELD_SIZE) {
            return 0;
        }
        long length = length(buf, buf.readerIndex());
        return length >= MIN_LENGTH && length < ASSEMBLE_BYTES - LENGTH_FIELD_SIZE
                ? LENGTH_FIELD_SIZE + (int) length : 0;
    }

    /** Makes room for the rest of a small frame that has started, so it is joined with one copy. */
    private void makeRoom(int frameSize) {
        ByteBuf buf = cumulation;
        if (buf.capacity() - buf.readerIndex() >= frameSize) {
            return;
        }
        ByteBuf joined = ctx.alloc().directBuffer(frameSize);
        joined.writeBytes(buf);
        buf.release();
        cumulation = joined;
    }

    /** Moves the started large frame into a buffer of exactly its size, holding {@code reserved} bytes. */
    private void startAssembly(int frameSize, long reserved) {
        ByteBuf buf = cumulation;
        ByteBuf assembly = ctx.alloc().directBuffer(frameSize, frameSize);
        assembly.writeBytes(buf);
        buf.release();
        cumulation = assembly;
        assemblyReserved = reserved;
    }

    private void releaseCumulation() {
        awaitingReservation = 0; // a grant that comes now finds nothing to assemble and goes back
        if (cumulation != null) {
            cumulation.release();
            cumulation = null;
        }
        if (tail != null) {
            tail.release();
            tail = null;
        }
        if (assemblyReserved > 0) {
            long r = assemblyReserved;
            assemblyReserved = 0;
            sink.unreserve(r);
        }
        // A readTarget handed to the socket is the socket's: it releases what it does not deliver.
        readTarget = null;
    }
}
