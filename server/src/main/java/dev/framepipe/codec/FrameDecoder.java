package dev.framepipe.codec;

import dev.framepipe.protocol.ErrorCode;

import static dev.framepipe.protocol.FrameDescriptor.*;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;

/**
 * Splits the byte stream into frames. Each complete frame stays in the buffer it arrived in
 * (length field first): the payload is never copied, except when a frame straddles two socket
 * reads and its bytes must be joined in one buffer. It is handed on in one of two ways:
 * <ul>
 *   <li>to a {@link FrameSink} gate, in place: the sink gets the buffer and the frame's bounds
 *       and retains the buffer if it keeps the frame. No object is made per frame; this is how
 *       the service's {@code ConnectionHandler} takes frames;</li>
 *   <li>otherwise as a retained slice, down the channel pipeline (what a plain Netty handler
 *       expects; the transport-only baseline works this way).</li>
 * </ul>
 * Header-level failures are passed on down the pipeline as a {@link DecodeFailure} in the
 * frame's place, after which the decoder discards all input (the connection is closing).
 *
 * <p>Back-pressure: before passing on each frame the decoder asks its {@link Gate}; when the
 * gate is closed the remaining bytes stay buffered (at most one frame plus one read) until
 * {@link #resume()}.
 *
 * <p>Ownership: the decoder owns its cumulation buffer; every slice it passes on is retained
 * for, and owned by, the next handler; a sink retains what it keeps.
 */
public final class FrameDecoder extends ChannelInboundHandlerAdapter {

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
    }

    private enum Mode { DECODING, DECLINING, DISCARDING }

    private static final String SHUTTING_DOWN_MESSAGE = "server is shutting down; request not started";

    private final int maxLength;
    private final Gate gate;
    /** {@link #gate} when it takes frames in place, else null (frames go out as slices). */
    private final FrameSink sink;
    private ChannelHandlerContext ctx;
    /** Bytes received and not yet passed on; null when none. */
    private ByteBuf cumulation;
    private Mode mode = Mode.DECODING;
    private boolean inputClosed;
    private String declineMessage = SHUTTING_DOWN_MESSAGE;

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

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releaseCumulation();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (mode == Mode.DISCARDING || inputClosed) {
            in.release();
            return;
        }
        cumulate(in);
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
        releaseCumulation();
        ctx.fireChannelInactive();
    }

    /** Decodes what is buffered, after the gate has opened again. I/O thread. */
    public void resume() {
        if (cumulation != null) {
            decode();
        }
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
            if (cumulation != null) {
                decode();
            }
        }
    }

    /** Drops buffered bytes and every byte that arrives from now on. */
    public void discard() {
        mode = Mode.DISCARDING;
        releaseCumulation();
    }

    /** Whether bytes are buffered: a frame in progress, or frames held back by the gate. */
    public boolean hasBufferedBytes() {
        return cumulation != null;
    }

    /**
     * Whether a frame has started arriving and is not complete yet: the client owes bytes. False
     * when nothing is buffered, when the buffered frame is complete (held back by the gate: the
     * server is the one waiting), and once the decoder discards input.
     */
    public boolean frameInProgress() {
        ByteBuf buf = cumulation;
        if (buf == null || mode == Mode.DISCARDING || inputClosed) {
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
        while (cumulation != null) {
            ByteBuf buf = cumulation;
            int start = buf.readerIndex();
            int readable = buf.readableBytes();
            if (readable < LENGTH_FIELD_SIZE) {
                break;
            }
            long length = length(buf, start);
            if (length < MIN_LENGTH) {
                if (gate.admitting()) {
                    fail(ErrorCode.MALFORMED, 0, 0,
                            "length " + length + " is below the minimum of " + MIN_LENGTH);
                }
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
                if (gate.admitting()) {
                    // op and id are read only here: a frame that is passed on has them read by
                    // its receiver, so the hot path reads each header field once
                    fail(failure, op(buf, start), id(buf, start), message);
                }
                break;
            }
            int frameSize = LENGTH_FIELD_SIZE + (int) length;
            if (readable < frameSize) {
                reserve(frameSize);
                break;
            }
            if (!gate.admitting()) {
                break;
            }
            if (sink != null) {
                // The decoder's state is final before the call, because the sink may re-enter
                // it (decline, discard, resume). A buffer read to its end is no longer the
                // cumulation, and the local reference keeps it alive until the sink returns.
                buf.skipBytes(frameSize);
                boolean consumed = !buf.isReadable();
                if (consumed) {
                    cumulation = null;
                }
                if (!clockRead) {
                    passNanos = System.nanoTime();
                    clockRead = true;
                }
                try {
                    sink.onFrame(buf, start, frameSize, passNanos);
                } finally {
                    if (consumed) {
                        buf.release();
                    }
                }
            } else {
                ByteBuf frame = buf.retainedSlice(start, frameSize);
                buf.skipBytes(frameSize);
                if (!buf.isReadable()) {
                    releaseCumulation();
                }
                ctx.fireChannelRead(frame);
            }
        }
        if (inputClosed) {
            dropIncompleteFrame();
        }
    }

    /** A frame cut off by the client's FIN gets no answer; complete frames still held do. */
    private void dropIncompleteFrame() {
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
        releaseCumulation();
        ctx.fireChannelRead(new DecodeFailure(code, op, id, message));
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
        int needed = buf.readableBytes() + incoming;
        ByteBuf joined = ctx.alloc().directBuffer(Math.max(needed, expectedFrameSize(buf)));
        joined.writeBytes(buf);
        joined.writeBytes(in);
        buf.release();
        in.release();
        cumulation = joined;
    }

    /** Size of the frame at the head of {@code buf} when its length is known and sane, else 0. */
    private int expectedFrameSize(ByteBuf buf) {
        if (buf.readableBytes() < LENGTH_FIELD_SIZE) {
            return 0;
        }
        long length = length(buf, buf.readerIndex());
        return length >= MIN_LENGTH && length <= maxLength ? LENGTH_FIELD_SIZE + (int) length : 0;
    }

    /** Makes room for the rest of a frame that has started, so it is assembled with one copy. */
    private void reserve(int frameSize) {
        ByteBuf buf = cumulation;
        if (buf.capacity() - buf.readerIndex() >= frameSize) {
            return;
        }
        ByteBuf joined = ctx.alloc().directBuffer(frameSize);
        joined.writeBytes(buf);
        buf.release();
        cumulation = joined;
    }

    private void releaseCumulation() {
        if (cumulation != null) {
            cumulation.release();
            cumulation = null;
        }
    }
}
