package dev.framepipe.baseline;

import static dev.framepipe.protocol.FrameDescriptor.*;

import dev.framepipe.protocol.ErrorCode;
import dev.framepipe.protocol.Kinds;
import dev.framepipe.protocol.Ops;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The raw baseline's protocol state machine for one connection, apart from its socket: turns the
 * request bytes in {@link #in} into answers in {@link #out}, computing nothing. STATS gets 48 zero
 * bytes, COUNT 32, SCALE the n floats after a and b echoed, UPPER, LOWER and PING their payload
 * echoed (kind | 0x80, op and id echoed); bad input gets the protocol's error frames.
 *
 * <p>A frame that lies whole in {@code in} is answered in one step. A frame larger than the buffer
 * is streamed: its echoed payload is copied to {@code out} as it arrives, so buffers stay bounded
 * whatever the frame size (the one departure from the service: an echoed frame larger than the
 * buffer that the client cuts off leaves the start of its answer on the wire). STATS, COUNT and
 * error answers go out once the payload is consumed, so they never depend on the buffer size.
 *
 * <p>Both buffers are in fill mode: {@code in} holds the bytes read so far (parsed from
 * {@link #readIndex}), {@code out} the answers not yet written. Single-threaded: the connection's
 * thread owns it.
 */
final class RawAnswerer {

    /** What {@link #process()} needs next. */
    enum Next {
        /** More request bytes: write what {@code out} holds, compact, read. */
        INPUT,
        /** Room in {@code out}: write it, then call {@link #process()} again before reading. */
        ROOM,
        /** A closing error is in {@code out}: write it and close the connection. */
        CLOSE
    }

    private static final byte[][] MESSAGES = new byte[ErrorCode.values().length + 1][];

    static {
        message(ErrorCode.BAD_VERSION, "bad version");
        message(ErrorCode.UNKNOWN_KIND, "unknown kind");
        message(ErrorCode.UNKNOWN_OP, "unknown op");
        message(ErrorCode.MALFORMED, "malformed frame");
        message(ErrorCode.FRAME_TOO_LARGE, "frame too large");
    }

    private static void message(ErrorCode code, String text) {
        MESSAGES[code.code()] = text.getBytes(StandardCharsets.UTF_8);
    }

    final ByteBuffer in;
    final ByteBuffer out;
    private final long maxLength;
    int readIndex;

    // A frame being streamed: payload bytes still to consume, of which the first skip are not
    // echoed (SCALE's a and b); echo says whether the rest is copied to out.
    private long payloadLeft;
    private int skipLeft;
    private boolean echo;
    // A fixed-size answer (STATS, COUNT, an error) due once the frame's payload is consumed.
    private boolean answerDue;
    private int dueKind;
    private int dueOp;
    private long dueId;
    private int dueLength;
    private ErrorCode dueError;
    private boolean closing;

    RawAnswerer(int bufferBytes, long maxLength) {
        if (bufferBytes < 4096) {
            throw new IllegalArgumentException("buffer of " + bufferBytes + " bytes: at least 4096");
        }
        in = ByteBuffer.allocateDirect(bufferBytes).order(ByteOrder.LITTLE_ENDIAN);
        // Answers are no larger than their requests except errors (18 bytes and a message for a
        // 16-byte request): a read full of those takes two writes, every other read one.
        out = ByteBuffer.allocateDirect(bufferBytes + 64).order(ByteOrder.LITTLE_ENDIAN);
        this.maxLength = maxLength;
    }

    /** Turns as much of the buffered input as {@code out} has room for into answers. */
    Next process() {
        final ByteBuffer in = this.in;
        final ByteBuffer out = this.out;
        final int end = in.position();
        for (;;) {
            if (payloadLeft > 0) {
                int n = (int) Math.min(payloadLeft, end - readIndex);
                if (n == 0) {
                    return Next.INPUT;
                }
                if (skipLeft > 0) {
                    n = Math.min(n, skipLeft);
                    skipLeft -= n;
                } else if (echo) {
                    n = Math.min(n, out.remaining());
                    if (n == 0) {
                        return Next.ROOM;
                    }
                    out.put(out.position(), in, readIndex, n);
                    out.position(out.position() + n);
                }
                readIndex += n;
                payloadLeft -= n;
                continue;
            }
            if (answerDue) {
                if (!putFixed(dueKind, dueOp, dueId, dueLength, dueError)) {
                    return Next.ROOM;
                }
                answerDue = false;
                continue;
            }
            if (closing) {
                return Next.CLOSE;
            }
            int avail = end - readIndex;
            if (avail < LENGTH_FIELD_SIZE) {
                return Next.INPUT;
            }
            long length = in.getInt(readIndex + LENGTH_OFFSET) & 0xFFFF_FFFFL;
            if (length < MIN_LENGTH) {
                refuse(0, 0, ErrorCode.MALFORMED); // no header to take an id from
                continue;
            }
            if (avail < HEADER_LENGTH) {
                return Next.INPUT;
            }
            int at = readIndex;
            int kind = in.get(at + KIND_OFFSET) & 0xFF;
            int op = in.getShort(at + OP_OFFSET) & 0xFFFF;
            long id = in.getLong(at + ID_OFFSET);
            if (length > maxLength) {
                refuse(op, id, ErrorCode.FRAME_TOO_LARGE);
                continue;
            }
            if ((in.get(at + VERSION_OFFSET) & 0xFF) != VERSION) {
                refuse(op, id, ErrorCode.BAD_VERSION);
                continue;
            }
            long payload = length - MIN_LENGTH;
            int fixed = -1;
            int skip = 0;
            ErrorCode error = null;
            switch (kind) {
                case Kinds.FLOATS -> {
                    if (op == Ops.STATS) {
                        fixed = STATS_RESPONSE_LENGTH;
                    } else if (op == Ops.SCALE) {
                        if (payload < SCALE_VALUES_OFFSET || (payload - SCALE_VALUES_OFFSET) % 4 != 0) {
                            error = ErrorCode.MALFORMED;
                        }
                        skip = SCALE_VALUES_OFFSET;
                    } else {
                        error = ErrorCode.UNKNOWN_OP;
                    }
                }
                case Kinds.TEXT -> {
                    if (op == Ops.COUNT) {
                        fixed = COUNT_RESPONSE_LENGTH;
                    } else if (op != Ops.UPPER && op != Ops.LOWER) {
                        error = ErrorCode.UNKNOWN_OP;
                    }
                }
                case Kinds.PING -> {
                    if (op != Ops.PING) {
                        error = ErrorCode.UNKNOWN_OP;
                    }
                }
                default -> error = ErrorCode.UNKNOWN_KIND;
            }
            int answerKind = kind | RESPONSE_BIT;
            if (HEADER_LENGTH + payload <= avail) {
                // The whole frame is here: answer it in one step, or wait for room.
                int frameEnd = at + HEADER_LENGTH + (int) payload;
                if (error != null || fixed >= 0) {
                    if (!putFixed(answerKind, op, id, fixed, error)) {
                        return Next.ROOM;
                    }
                    readIndex = frameEnd;
                    continue;
                }
                int echoed = (int) payload - skip;
                if (out.remaining() >= HEADER_LENGTH + echoed) {
                    int o = out.position();
                    putHeader(out, o, echoed, answerKind, op, id);
                    out.put(o + HEADER_LENGTH, in, at + HEADER_LENGTH + skip, echoed);
                    out.position(o + HEADER_LENGTH + echoed);
                    readIndex = frameEnd;
                    continue;
                }
                if (out.position() > 0) {
                    return Next.ROOM;
                }
                // larger than out even when it is empty: streamed below
            }
            // Part of the frame is still to come, or it is larger than out. An echo waits for the
            // whole frame when the buffer can hold it (a frame the client cuts off gets no answer);
            // a larger one is streamed. A fixed answer goes out once the payload is consumed.
            if (error == null && fixed < 0 && HEADER_LENGTH + payload <= in.capacity() && HEADER_LENGTH + payload > avail) {
                return Next.INPUT;
            }
            if (error != null || fixed >= 0) {
                due(answerKind, op, id, fixed, error);
                echo = false;
            } else {
                if (out.remaining() < HEADER_LENGTH) {
                    return Next.ROOM;
                }
                int o = out.position();
                putHeader(out, o, (int) payload - skip, answerKind, op, id);
                out.position(o + HEADER_LENGTH);
                echo = true;
            }
            readIndex = at + HEADER_LENGTH;
            payloadLeft = payload;
            skipLeft = skip;
        }
    }

    /** A closing error: nothing after this header is read; the answer goes out, then the close. */
    private void refuse(int op, long id, ErrorCode error) {
        readIndex = in.position();
        due(ERROR_KIND, op, id, 0, error);
        closing = true;
    }

    private void due(int kind, int op, long id, int length, ErrorCode error) {
        answerDue = true;
        dueKind = kind;
        dueOp = op;
        dueId = id;
        dueLength = length;
        dueError = error;
    }

    /** An error answer, or a fixed-size answer of zeros; false when {@code out} has no room. */
    private boolean putFixed(int kind, int op, long id, int length, ErrorCode error) {
        ByteBuffer out = this.out;
        int o = out.position();
        if (error != null) {
            byte[] text = MESSAGES[error.code()];
            if (out.remaining() < HEADER_LENGTH + ERROR_MESSAGE_OFFSET + text.length) {
                return false;
            }
            putHeader(out, o, ERROR_MESSAGE_OFFSET + text.length, ERROR_KIND, op, id);
            out.putShort(o + HEADER_LENGTH + ERROR_CODE_OFFSET, (short) error.code());
            out.put(o + HEADER_LENGTH + ERROR_MESSAGE_OFFSET, text);
            out.position(o + HEADER_LENGTH + ERROR_MESSAGE_OFFSET + text.length);
            return true;
        }
        if (out.remaining() < HEADER_LENGTH + length) {
            return false;
        }
        putHeader(out, o, length, kind, op, id);
        for (int i = 0; i < length; i += 8) { // 48 or 32 bytes
            out.putLong(o + HEADER_LENGTH + i, 0L);
        }
        out.position(o + HEADER_LENGTH + length);
        return true;
    }

    private static void putHeader(ByteBuffer out, int at, int payloadLength, int kind, int op, long id) {
        out.putInt(at + LENGTH_OFFSET, MIN_LENGTH + payloadLength);
        out.put(at + VERSION_OFFSET, (byte) VERSION);
        out.put(at + KIND_OFFSET, (byte) kind);
        out.putShort(at + OP_OFFSET, (short) op);
        out.putLong(at + ID_OFFSET, id);
    }

    /** Moves the bytes not yet parsed to the start of {@code in}, ready for the next read. */
    void compact() {
        int end = in.position();
        if (readIndex == end) {
            in.clear();
        } else if (readIndex > 0) {
            in.limit(end).position(readIndex);
            in.compact();
        }
        readIndex = 0;
    }
}
