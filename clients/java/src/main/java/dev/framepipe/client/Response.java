package dev.framepipe.client;

import static dev.framepipe.protocol.FrameDescriptor.*;

import dev.framepipe.protocol.ErrorCode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** One response frame as the client received it (payload copied out of the network buffer). */
public record Response(int kind, int op, long id, byte[] payload) {

    /** The payload as a read-only little-endian buffer over the same bytes (no copy). */
    public ByteBuffer payloadBuffer() {
        return le().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    public boolean isError() {
        return kind == ERROR_KIND;
    }

    /** The error's wire code; only for {@link #isError()} responses. */
    public int errorCode() {
        requireError();
        return le().getShort(ERROR_CODE_OFFSET) & 0xFFFF;
    }

    /** The error code as an enum, or null for a code this client does not know. */
    public ErrorCode error() {
        return isError() ? ErrorCode.of(errorCode()) : null;
    }

    public String errorMessage() {
        requireError();
        return new String(payload, ERROR_MESSAGE_OFFSET, payload.length - ERROR_MESSAGE_OFFSET, StandardCharsets.UTF_8);
    }

    public Stats stats() {
        requireOk();
        ByteBuffer b = le();
        return new Stats(b.getLong(STATS_COUNT_OFFSET), b.getDouble(STATS_SUM_OFFSET), b.getDouble(STATS_MIN_OFFSET),
                b.getDouble(STATS_MAX_OFFSET), b.getDouble(STATS_MEAN_OFFSET), b.getDouble(STATS_VARIANCE_OFFSET));
    }

    public float[] floats() {
        requireOk();
        float[] out = new float[payload.length / 4];
        le().asFloatBuffer().get(out);
        return out;
    }

    public String text() {
        requireOk();
        return new String(payload, StandardCharsets.UTF_8);
    }

    public Counts counts() {
        requireOk();
        ByteBuffer b = le();
        return new Counts(b.getLong(COUNT_BYTES_OFFSET), b.getLong(COUNT_CODE_POINTS_OFFSET),
                b.getLong(COUNT_WORDS_OFFSET), b.getLong(COUNT_LINES_OFFSET));
    }

    private ByteBuffer le() {
        return ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN);
    }

    private void requireError() {
        if (!isError()) {
            throw new IllegalStateException("not an error response: kind 0x" + Integer.toHexString(kind));
        }
    }

    private void requireOk() {
        if (isError()) {
            throw new FramepipeException(this);
        }
    }

    /** STATS result. */
    public record Stats(long count, double sum, double min, double max, double mean, double variance) {
    }

    /** COUNT result. */
    public record Counts(long bytes, long codePoints, long words, long lines) {
    }

    @Override
    public String toString() {
        return "Response[kind=0x" + Integer.toHexString(kind) + ", op=" + op + ", id=" + id + ", payload="
                + payload.length + " bytes" + (isError() ? ", error " + error() + ": " + errorMessage() : "") + "]";
    }
}
