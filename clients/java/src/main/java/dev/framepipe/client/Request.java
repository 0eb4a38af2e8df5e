package dev.framepipe.client;

import dev.framepipe.protocol.Kinds;
import dev.framepipe.protocol.Ops;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;

/**
 * One request: kind, op, payload and, optionally, its own deadline. Immutable, apart from the
 * payload array, which is not copied: do not change it until the request's future completes
 * ({@link ReconnectingClient} keeps it to send again).
 *
 * <pre>{@code
 * client.send(Request.upper("straße").withTimeout(Duration.ofSeconds(2)))
 * }</pre>
 */
public final class Request {

    private static final byte[] EMPTY = new byte[0];

    private final int kind;
    private final int op;
    private final byte[] payload;
    private final Duration timeout;

    private Request(int kind, int op, byte[] payload, Duration timeout) {
        if (kind < 0 || kind > 0xFF) {
            throw new IllegalArgumentException("kind must fit in a byte, not " + kind);
        }
        if (op < 0 || op > 0xFFFF) {
            throw new IllegalArgumentException("op must fit in 16 bits, not " + op);
        }
        this.kind = kind;
        this.op = op;
        this.payload = Objects.requireNonNull(payload, "payload");
        this.timeout = timeout;
    }

    /** Any kind and op (see {@link Kinds}); the array is used as it is. */
    public static Request of(int kind, int op, byte[] payload) {
        return new Request(kind, op, payload, null);
    }

    /** Any kind and op; the buffer's remaining bytes are copied (its position is not moved). */
    public static Request of(int kind, int op, ByteBuffer payload) {
        byte[] p = new byte[payload.remaining()];
        payload.duplicate().get(p);
        return new Request(kind, op, p, null);
    }

    /** STATS of {@code values}: count, sum, min, max, mean and variance ({@link Response#stats()}). */
    public static Request stats(float... values) {
        byte[] p = new byte[values.length * Float.BYTES];
        ByteBuffer.wrap(p).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(values);
        return new Request(Kinds.FLOATS, Ops.STATS, p, null);
    }

    /** SCALE: {@code a * x + b} for every x ({@link Response#floats()}). */
    public static Request scale(float a, float b, float... values) {
        byte[] p = new byte[2 * Float.BYTES + values.length * Float.BYTES];
        ByteBuffer bb = ByteBuffer.wrap(p).order(ByteOrder.LITTLE_ENDIAN);
        bb.putFloat(a).putFloat(b);
        bb.asFloatBuffer().put(values);
        return new Request(Kinds.FLOATS, Ops.SCALE, p, null);
    }

    /** UPPER: the text in upper case, by Unicode's full case mapping ({@link Response#text()}). */
    public static Request upper(String text) {
        return new Request(Kinds.TEXT, Ops.UPPER, text.getBytes(StandardCharsets.UTF_8), null);
    }

    /** LOWER: the text in lower case ({@link Response#text()}). */
    public static Request lower(String text) {
        return new Request(Kinds.TEXT, Ops.LOWER, text.getBytes(StandardCharsets.UTF_8), null);
    }

    /** COUNT: bytes, code points, words and lines ({@link Response#counts()}). */
    public static Request count(String text) {
        return new Request(Kinds.TEXT, Ops.COUNT, text.getBytes(StandardCharsets.UTF_8), null);
    }

    /** PING: the payload comes back unchanged ({@link Response#payload()}). */
    public static Request ping(byte[] payload) {
        return new Request(Kinds.PING, Ops.PING, payload == null ? EMPTY : payload, null);
    }

    /**
     * The same request with its own deadline, {@code timeout} after the call that sends it,
     * in place of the client's {@link ClientOptions#requestTimeout()}.
     */
    public Request withTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, not " + timeout);
        }
        return new Request(kind, op, payload, timeout);
    }

    public int kind() {
        return kind;
    }

    public int op() {
        return op;
    }

    /** The payload array itself (not a copy). */
    public byte[] payload() {
        return payload;
    }

    /** This request's own deadline, or null for the client's default. */
    public Duration timeout() {
        return timeout;
    }

    @Override
    public String toString() {
        return "Request[kind=0x" + Integer.toHexString(kind) + ", op=" + op + ", payload=" + payload.length + " bytes"
                + (timeout == null ? "" : ", timeout " + timeout) + "]";
    }
}
