package dev.framepipe.loadgen;

import static dev.framepipe.protocol.FrameDescriptor.*;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Random;

/**
 * A request payload built once and sent many times (each send writes a fresh 16-byte header and
 * a retained duplicate of the payload, so nothing is copied per request), with the answer the
 * service must give, computed here independently of the server.
 */
final class RequestTemplate {

    final MixEntry entry;
    final int kind;
    final int op;
    /** Read-only payload; sends take retained duplicates. */
    final ByteBuf payload;
    /** Expected answer payload, or null when only its length is checked (STATS). */
    final byte[] expected;
    /** Expected answer payload length. */
    final int expectedLength;
    /** For STATS: the exact count and sum (the sum checked within the protocol's bound). */
    final long statsCount;
    final double statsSum;
    final double statsAbsSum;

    private RequestTemplate(MixEntry entry, ByteBuf payload, byte[] expected, int expectedLength,
                            long statsCount, double statsSum, double statsAbsSum) {
        this.entry = entry;
        this.kind = entry.kind();
        this.op = entry.opCode();
        this.payload = payload;
        this.expected = expected;
        this.expectedLength = expectedLength;
        this.statsCount = statsCount;
        this.statsSum = statsSum;
        this.statsAbsSum = statsAbsSum;
    }

    int requestFrameBytes() {
        return HEADER_LENGTH + payload.readableBytes();
    }

    int responseFrameBytes() {
        return HEADER_LENGTH + expectedLength;
    }

    static RequestTemplate of(MixEntry e, long seed) {
        Random rnd = new Random(seed);
        return switch (e.op()) {
            case "stats" -> {
                ByteBuf p = Unpooled.directBuffer(e.size() * 4);
                double sum = 0;
                double abs = 0;
                for (int i = 0; i < e.size(); i++) {
                    float v = (float) (rnd.nextGaussian() * 100 + 1000);
                    p.writeFloatLE(v);
                    sum += v;
                    abs += Math.abs(v);
                }
                yield new RequestTemplate(e, p.asReadOnly(), null, STATS_RESPONSE_LENGTH, e.size(), sum, abs);
            }
            case "scale" -> {
                ByteBuf p = Unpooled.directBuffer(8 + e.size() * 4);
                float a = 1.5f;
                float b = -2f;
                p.writeFloatLE(a).writeFloatLE(b);
                ByteBuffer y = ByteBuffer.allocate(e.size() * 4).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < e.size(); i++) {
                    float x = (float) rnd.nextGaussian();
                    p.writeFloatLE(x);
                    y.putFloat(Math.fma(a, x, b));
                }
                yield new RequestTemplate(e, p.asReadOnly(), y.array(), e.size() * 4, 0, 0, 0);
            }
            case "upper", "lower", "count" -> {
                String text = text(rnd, e.size());
                byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
                ByteBuf p = Unpooled.directBuffer(bytes.length).writeBytes(bytes);
                byte[] expected = switch (e.op()) {
                    case "upper" -> text.toUpperCase(Locale.ROOT).getBytes(StandardCharsets.US_ASCII);
                    case "lower" -> text.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.US_ASCII);
                    default -> countAnswer(bytes);
                };
                yield new RequestTemplate(e, p.asReadOnly(), expected, expected.length, 0, 0, 0);
            }
            default -> {
                byte[] bytes = new byte[e.size()];
                rnd.nextBytes(bytes);
                yield new RequestTemplate(e, Unpooled.directBuffer(bytes.length).writeBytes(bytes).asReadOnly(),
                        bytes, bytes.length, 0, 0, 0);
            }
        };
    }

    /** Mixed-case ASCII words, spaces and newlines: exercises every branch of the text ops. */
    private static String text(Random rnd, int size) {
        StringBuilder sb = new StringBuilder(size);
        while (sb.length() < size) {
            int r = rnd.nextInt(12);
            if (r == 0) {
                sb.append(' ');
            } else if (r == 1 && sb.length() % 61 == 0) {
                sb.append('\n');
            } else {
                char c = (char) ('a' + rnd.nextInt(26));
                sb.append(rnd.nextBoolean() ? Character.toUpperCase(c) : c);
            }
        }
        return sb.toString();
    }

    private static byte[] countAnswer(byte[] text) {
        long words = 0;
        long lines = 0;
        boolean inWord = false;
        for (byte b : text) {
            boolean space = b == ' ' || (b >= 0x09 && b <= 0x0D);
            if (!space && !inWord) {
                words++;
            }
            inWord = !space;
            if (b == '\n') {
                lines++;
            }
        }
        return ByteBuffer.allocate(COUNT_RESPONSE_LENGTH).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(text.length).putLong(text.length).putLong(words).putLong(lines).array();
    }

    /**
     * Checks an answer's payload.
     *
     * @return null when it is right, otherwise what is wrong
     */
    String verify(ByteBuf answer, int payloadIndex, int payloadLength) {
        if (payloadLength != expectedLength) {
            return entry + ": answer payload " + payloadLength + " bytes, expected " + expectedLength;
        }
        if (expected != null) {
            for (int i = 0; i < expected.length; i++) {
                if (answer.getByte(payloadIndex + i) != expected[i]) {
                    return entry + ": answer differs at payload byte " + i;
                }
            }
            return null;
        }
        long count = answer.getLongLE(payloadIndex + STATS_COUNT_OFFSET);
        double sum = answer.getDoubleLE(payloadIndex + STATS_SUM_OFFSET);
        if (count != statsCount || Math.abs(sum - statsSum) > 1e-9 * statsAbsSum + 1e-300) {
            return entry + ": STATS count " + count + " sum " + sum + ", expected " + statsCount + " and " + statsSum;
        }
        return null;
    }

    /** The answer kind the service gives: request kind with the response bit. */
    int answerKind() {
        return kind | RESPONSE_BIT;
    }
}
