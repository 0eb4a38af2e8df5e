package dev.framepipe.protocol;

import static dev.framepipe.protocol.FrameDescriptor.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * The layout against the contract's own numbers and bytes, never against itself: offsets from
 * the frame-layout table of PROTOCOL.md, and headers and payloads from the worked examples in
 * docs/protocol.md (real exchanges with the server), read and written byte for byte.
 */
class FrameDescriptorTest {

    private static final HexFormat HEX = HexFormat.ofDelimiter(" ");

    /** docs/protocol.md, STATS of 1, 2, 3, 4: the request and its answer. */
    private static final String STATS_REQUEST = "1c 00 00 00 01 01 01 00 01 00 00 00 00 00 00 00 "
            + "00 00 80 3f 00 00 00 40 00 00 40 40 00 00 80 40";
    private static final String STATS_ANSWER = "3c 00 00 00 01 81 01 00 01 00 00 00 00 00 00 00 "
            + "04 00 00 00 00 00 00 00 "   // count 4
            + "00 00 00 00 00 00 24 40 "   // sum 10.0
            + "00 00 00 00 00 00 f0 3f "   // min 1.0
            + "00 00 00 00 00 00 10 40 "   // max 4.0
            + "00 00 00 00 00 00 04 40 "   // mean 2.5
            + "00 00 00 00 00 00 f4 3f";   // variance 1.25
    /** docs/protocol.md, SCALE a = 2, b = 1 of 1, 2. */
    private static final String SCALE_REQUEST = "1c 00 00 00 01 01 02 00 02 00 00 00 00 00 00 00 "
            + "00 00 00 40 00 00 80 3f 00 00 80 3f 00 00 00 40";
    /** docs/protocol.md, COUNT of "a b\n": the answer. */
    private static final String COUNT_ANSWER = "2c 00 00 00 01 82 03 00 05 00 00 00 00 00 00 00 "
            + "04 00 00 00 00 00 00 00 04 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00";
    /** docs/protocol.md, kind 9: the error answer's header and code. */
    private static final String ERROR_ANSWER_START = "23 00 00 00 01 ff 01 00 07 00 00 00 00 00 00 00 02 00";

    /** A header with every field's top bit set: length 4,294,967,280, version 0x81, kind 0xFE, op 0xFFFE, id 2^63 + 1. */
    private static final String EXTREME_HEADER = "f0 ff ff ff 81 fe fe ff 01 00 00 00 00 00 00 80";

    private static ByteBuf bytes(String hex) {
        return Unpooled.wrappedBuffer(HEX.parseHex(hex));
    }

    @Test
    void offsetsAndSizesAreTheContractsTable() {
        // PROTOCOL.md, "Frame layout": length 0 (4), version 4 (1), kind 5 (1), op 6 (2), id 8 (8), payload 16
        assertThat(new int[] {LENGTH_OFFSET, VERSION_OFFSET, KIND_OFFSET, OP_OFFSET, ID_OFFSET, PAYLOAD_OFFSET})
                .containsExactly(0, 4, 5, 6, 8, 16);
        assertThat(HEADER_LENGTH).isEqualTo(16);
        assertThat(LENGTH_FIELD_SIZE).isEqualTo(4);
        assertThat(MIN_LENGTH).as("length = 12 + payload").isEqualTo(12);
        assertThat(DEFAULT_MAX_LENGTH).as("16 MiB").isEqualTo(16_777_216);
        assertThat(VERSION).isEqualTo(1);
        assertThat(RESPONSE_BIT).isEqualTo(0x80);
        assertThat(ERROR_KIND).isEqualTo(0xFF);
        // "Requests": STATS answers u64 count, f64 sum, min, max, mean, variance (48 bytes)
        assertThat(new int[] {STATS_COUNT_OFFSET, STATS_SUM_OFFSET, STATS_MIN_OFFSET, STATS_MAX_OFFSET,
            STATS_MEAN_OFFSET, STATS_VARIANCE_OFFSET, STATS_RESPONSE_LENGTH}).containsExactly(0, 8, 16, 24, 32, 40, 48);
        // SCALE takes f32 a, f32 b, then the values; COUNT answers four u64 (32 bytes)
        assertThat(new int[] {SCALE_A_OFFSET, SCALE_B_OFFSET, SCALE_VALUES_OFFSET}).containsExactly(0, 4, 8);
        assertThat(new int[] {COUNT_BYTES_OFFSET, COUNT_CODE_POINTS_OFFSET, COUNT_WORDS_OFFSET, COUNT_LINES_OFFSET,
            COUNT_RESPONSE_LENGTH}).containsExactly(0, 8, 16, 24, 32);
        // "Errors": u16 code, then the message
        assertThat(new int[] {ERROR_CODE_OFFSET, ERROR_MESSAGE_OFFSET}).containsExactly(0, 2);
    }

    @Test
    void theWorkedExamplesReadAsTheirCaptionsSay() {
        ByteBuf req = bytes(STATS_REQUEST);
        assertThat(new long[] {length(req, 0), version(req, 0), kind(req, 0), op(req, 0), id(req, 0)})
                .containsExactly(28, 1, Kinds.FLOATS, Ops.STATS, 1);
        assertThat(req.getFloatLE(PAYLOAD_OFFSET + 12)).isEqualTo(4.0f);

        ByteBuf res = bytes(STATS_ANSWER);
        assertThat(new long[] {length(res, 0), version(res, 0), kind(res, 0), op(res, 0), id(res, 0)})
                .containsExactly(60, 1, Kinds.FLOATS | 0x80, Ops.STATS, 1);
        int p = PAYLOAD_OFFSET;
        assertThat(res.getLongLE(p + STATS_COUNT_OFFSET)).isEqualTo(4);
        assertThat(new double[] {res.getDoubleLE(p + STATS_SUM_OFFSET), res.getDoubleLE(p + STATS_MIN_OFFSET),
            res.getDoubleLE(p + STATS_MAX_OFFSET), res.getDoubleLE(p + STATS_MEAN_OFFSET),
            res.getDoubleLE(p + STATS_VARIANCE_OFFSET)}).containsExactly(10.0, 1.0, 4.0, 2.5, 1.25);
        assertThat(res.readableBytes()).isEqualTo(HEADER_LENGTH + STATS_RESPONSE_LENGTH);

        ByteBuf scale = bytes(SCALE_REQUEST);
        assertThat(op(scale, 0)).isEqualTo(Ops.SCALE);
        assertThat(new float[] {scale.getFloatLE(p + SCALE_A_OFFSET), scale.getFloatLE(p + SCALE_B_OFFSET),
            scale.getFloatLE(p + SCALE_VALUES_OFFSET), scale.getFloatLE(p + SCALE_VALUES_OFFSET + 4)})
                .containsExactly(2f, 1f, 1f, 2f);

        ByteBuf count = bytes(COUNT_ANSWER);
        assertThat(new long[] {kind(count, 0), op(count, 0), id(count, 0)}).containsExactly(0x82, Ops.COUNT, 5);
        assertThat(new long[] {count.getLongLE(p + COUNT_BYTES_OFFSET), count.getLongLE(p + COUNT_CODE_POINTS_OFFSET),
            count.getLongLE(p + COUNT_WORDS_OFFSET), count.getLongLE(p + COUNT_LINES_OFFSET)}).containsExactly(4, 4, 2, 1);
        assertThat(count.readableBytes()).isEqualTo(HEADER_LENGTH + COUNT_RESPONSE_LENGTH);

        ByteBuf error = bytes(ERROR_ANSWER_START);
        assertThat(new long[] {length(error, 0), kind(error, 0), op(error, 0), id(error, 0)})
                .containsExactly(35, ERROR_KIND, 1, 7);
        assertThat(error.getUnsignedShortLE(p + ERROR_CODE_OFFSET)).isEqualTo(ErrorCode.UNKNOWN_KIND.code());
    }

    @Test
    void headersAreWrittenByteForByteAsInTheWorkedExamples() {
        ByteBuf direct = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        try {
            writeHeader(direct, 16, Kinds.FLOATS, Ops.STATS, 1);
            assertThat(ByteBufUtil.getBytes(direct)).isEqualTo(HEX.parseHex(STATS_REQUEST.substring(0, 47)));
            direct.clear().writeZero(3 + HEADER_LENGTH);
            putHeader(direct, 3, STATS_RESPONSE_LENGTH, Kinds.FLOATS | RESPONSE_BIT, Ops.STATS, 1);
            assertThat(ByteBufUtil.getBytes(direct, 3, HEADER_LENGTH)).isEqualTo(HEX.parseHex(STATS_ANSWER.substring(0, 47)));
            direct.clear();
            writeHeader(direct, 23, ERROR_KIND, 1, 7);
            assertThat(ByteBufUtil.getBytes(direct)).isEqualTo(HEX.parseHex(ERROR_ANSWER_START.substring(0, 47)));
            direct.clear();
            writeHeader(direct, 4, 0xFE, 0xFFFE, 0x8000_0000_0000_0001L); // top bits of kind, op and id
            assertThat(ByteBufUtil.getBytes(direct)).isEqualTo(HEX.parseHex("10 00 00 00 01 fe fe ff 01 00 00 00 00 00 00 80"));
        } finally {
            direct.release();
        }
    }

    @Test
    void directAndHeapBuffersReadTheSameUnsignedFieldsAtAnyOffset() {
        byte[] extreme = HEX.parseHex(EXTREME_HEADER);
        ByteBuf direct = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        ByteBuf heap = Unpooled.buffer(64);
        try {
            for (ByteBuf buf : new ByteBuf[] {direct, heap}) {
                for (int at : new int[] {0, 3, 17}) {
                    buf.clear().writeZero(at).writeBytes(extreme).writeZero(5).readerIndex(at);
                    assertExtremeHeader(buf, at);
                    assertExtremeHeader(buf.slice(at, HEADER_LENGTH), 0); // reads are relative to a slice
                }
            }
        } finally {
            direct.release();
            heap.release();
        }
    }

    private static void assertExtremeHeader(ByteBuf buf, int at) {
        assertThat(length(buf, at)).isEqualTo(4_294_967_280L);
        assertThat(version(buf, at)).isEqualTo(0x81);
        assertThat(kind(buf, at)).isEqualTo(0xFE);
        assertThat(op(buf, at)).isEqualTo(0xFFFE);
        assertThat(id(buf, at)).isEqualTo(0x8000_0000_0000_0001L);
    }
}
